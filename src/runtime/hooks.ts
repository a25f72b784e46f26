import type { Hook, HookName, State } from '../config/types.js';

// Enough of a failing hook's stderr to explain it without flooding the log.
const STDERR_EXCERPT = 4096;
// Output is captured (stdout too, like runc) up to this much; a hook writing more is killed.
const MAX_OUTPUT = 16 * 1024 * 1024;

export class HookError extends Error {
  constructor(
    readonly phase: HookName,
    readonly index: number,
    readonly hook: Hook,
    problem: string,
  ) {
    super(`${phase} hook #${index} (${hook.path}) ${problem}`);
    this.name = 'HookError';
  }
}

/**
 * Runs one hook to completion with the container's state on its stdin, as
 * runtime-spec config.md asks. Throws HookError if it cannot be started,
 * exits non-zero, dies of a signal, or outlives its timeout (then it is
 * SIGKILLed).
 */
export function runHook(phase: HookName, index: number, hook: Hook, state: State): void {
  const [argv0, ...args] = hook.args ?? [hook.path];
  const timeoutMs = hook.timeout === undefined ? undefined : hook.timeout * 1000;
  // Loaded on the first hook: node:child_process (with net and dgram under it) costs every
  // create, start, run and delete about 2.5 ms, and most containers have no hooks.
  const { spawnSync } = process.getBuiltinModule('node:child_process');
  const result = spawnSync(hook.path, args, {
    argv0: argv0 ?? hook.path,
    input: JSON.stringify(state),
    // Like runc: without an env list the hook inherits the runtime's environment.
    env: hook.env === undefined ? process.env : environment(hook.env),
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: MAX_OUTPUT,
    encoding: 'utf8',
  });
  const stderr = excerpt(result.stderr ?? '');
  const fail = (problem: string) => new HookError(phase, index, hook, stderr === '' ? problem : `${problem}; stderr: ${stderr}`);
  // EPIPE only means the hook did not read its stdin, which it may (Go's exec, so runc, ignores it too).
  const error = result.error as NodeJS.ErrnoException | undefined;
  const spawnError = error?.code === 'EPIPE' ? undefined : error;
  if (spawnError?.code === 'ETIMEDOUT') throw fail(`did not finish within its timeout of ${hook.timeout}s and was killed`);
  if (spawnError?.code === 'ENOBUFS') throw fail(`wrote more than ${MAX_OUTPUT} bytes of output and was killed`);
  if (spawnError !== undefined) throw fail(`could not be run: ${spawnError.message}`);
  if (result.signal !== null) throw fail(`was killed by ${result.signal}`);
  if (result.status !== 0) throw fail(`exited with status ${result.status}`);
}

/** Runs the hooks of one phase in order; the first failure stops the rest and is thrown. */
export function runHooks(phase: HookName, hooks: readonly Hook[] | undefined, state: State): void {
  hooks?.forEach((hook, index) => runHook(phase, index, hook, state));
}

/**
 * Runs every hook of a phase whose failure is a warning (config.md:
 * poststart, poststop): each failure is handed to `warn`, and the others
 * still run.
 */
export function runHooksWarning(phase: HookName, hooks: readonly Hook[] | undefined, state: State, warn: (message: string) => void): void {
  hooks?.forEach((hook, index) => {
    try {
      runHook(phase, index, hook, state);
    } catch (error) {
      if (!(error instanceof HookError)) throw error;
      warn(error.message);
    }
  });
}

function environment(entries: readonly string[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const entry of entries) {
    const at = entry.indexOf('=');
    if (at > 0) env[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return env;
}

function excerpt(text: string): string {
  const trimmed = text.trim();
  return trimmed.length <= STDERR_EXCERPT ? trimmed : `...${trimmed.slice(-STDERR_EXCERPT)}`;
}
