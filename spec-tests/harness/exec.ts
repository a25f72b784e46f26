import { spawn } from 'node:child_process';

export interface CommandOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Kill the whole process group after this long; undefined waits forever. */
  readonly timeoutMs?: number;
}

export interface CommandResult {
  /** null when the process was killed by a signal or never started. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  /** Set when the program could not be started at all (ENOENT, EACCES). */
  readonly spawnError: string | null;
  readonly durationMs: number;
}

// A validation program that goes wild must not fill the memory of the harness.
const OUTPUT_LIMIT = 32 * 1024 * 1024;
// SIGTERM first so the Go program can run its deferred cleanups; SIGKILL if it will not go.
const KILL_GRACE_MS = 5_000;
// A grandchild that inherited our pipes (a container, a hook) can keep them open after the
// direct child exited; do not wait for it forever.
const PIPE_DRAIN_MS = 2_000;

/** Runs a command in its own process group, capturing its output. Never rejects. */
export function runCommand(command: string, args: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let stdoutBytes = 0;
    let stderrBytes = 0;
    let timedOut = false;
    let settled = false;
    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    const timers: NodeJS.Timeout[] = [];

    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group, so a timeout can take down the program and everything it forked.
      detached: true,
    });

    const finish = (spawnError: string | null): void => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      resolve({
        code: exitCode,
        signal: exitSignal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        timedOut,
        spawnError,
        durationMs: Date.now() - started,
      });
    };

    const killGroup = (signal: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // The group is already gone.
      }
    };

    child.stdout.on('data', (chunk: Buffer) => {
      if (stdoutBytes < OUTPUT_LIMIT) stdout.push(chunk);
      stdoutBytes += chunk.length;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderrBytes < OUTPUT_LIMIT) stderr.push(chunk);
      stderrBytes += chunk.length;
    });
    child.on('error', (error) => finish(error.message));
    child.on('exit', (code, signal) => {
      exitCode = code;
      exitSignal = signal;
      timers.push(
        setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
          finish(null);
        }, PIPE_DRAIN_MS),
      );
    });
    child.on('close', () => finish(null));

    if (options.timeoutMs !== undefined) {
      timers.push(
        setTimeout(() => {
          timedOut = true;
          killGroup('SIGTERM');
          timers.push(setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS));
        }, options.timeoutMs),
      );
    }
  });
}

/** The last non-empty line of some output, for one-line error summaries. */
export function lastLine(text: string): string {
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  return lines[lines.length - 1] ?? '';
}
