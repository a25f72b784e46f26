import { closeSync } from 'node:fs';
import { errnoMessage, errnoName } from '../../linux/kernel.js';
import { Container } from '../container/container.js';
import type { Process } from '../../config/types.js';
import { execProcess, type ExecProcessOptions } from '../process/exec-process.js';
import { waitInForeground, withSignalsHeld, type SignalRelay } from '../process/foreground.js';
import { joinContainer } from '../process/exec-conductor.js';
import type { GlobalOptions } from '../options.js';
import { writePidFile } from '../process/pid-file.js';
import { attachTerminal, callerWindowSize } from '../process/terminal.js';

/** `tsrun exec`: the process, and how tsrun waits for it. */
export interface ExecOptions extends ExecProcessOptions {
  readonly id: string;
  /** -d: return once the process runs, instead of waiting for its exit code. */
  readonly detach: boolean;
  readonly pidFile?: string;
  readonly consoleSocket?: string;
  /** Extra fds, counted from 3, handed to the process. */
  readonly preserveFds: number;
}

/**
 * `tsrun exec`: run one more process in a running container. Resolves to
 * the exit code tsrun exits with: the process's own in the foreground
 * (128+n for a signal), 0 once it runs when detached.
 */
export async function exec(g: GlobalOptions, o: ExecOptions): Promise<number> {
  return withSignalsHeld(!o.detach, (relay) => launchAndWait(g, o, relay));
}

async function launchAndWait(g: GlobalOptions, o: ExecOptions, relay: SignalRelay): Promise<number> {
  // The lock covers the launch only: a long-running exec must not keep
  // `kill` or `delete` from the container.
  if (o.consoleSocket !== undefined && o.tty !== true && o.processFile === undefined) {
    throw new Error('--console-socket: there is no terminal to send without -t/--tty; drop the flag or add -t');
  }
  const { puppet, terminal, path } = await Container.locked(g.root, o.id, (container) => {
    const status = container.allow('exec');
    const spec = container.config();
    const requested = execProcess(spec.process, o);
    if (requested.terminal === true && o.detach && o.consoleSocket === undefined) {
      throw new Error('exec -t -d: a detached process needs --console-socket to hand its terminal to');
    }
    const proc = requested.terminal === true && o.consoleSocket === undefined ? mirrorCallerTerminal(requested) : requested;
    const joined = joinContainer(container, spec, proc, o.preserveFds, container.state(status), {
      ...(o.consoleSocket === undefined ? {} : { consoleSocket: o.consoleSocket }),
    });
    return { ...joined, path: proc.args?.[0] ?? '' };
  });
  const execErrno = puppet.execOutcome();
  if (execErrno !== undefined) {
    if (terminal !== undefined) closeSync(terminal);
    puppet.reap();
    puppet.detach();
    throw new Error(`exec ${path}: execve failed: ${errnoName(execErrno)} (${errnoMessage(execErrno)})`);
  }
  if (o.pidFile !== undefined) writePidFile(o.pidFile, puppet.pid);
  puppet.detach();
  if (o.detach) return 0;
  const attached = terminal === undefined ? undefined : attachTerminal(terminal);
  const code = await waitInForeground(puppet, relay);
  await attached?.finish();
  return code;
}

/**
 * A foreground `exec -t` without a socket: the pty is tsrun's own terminal
 * seen from inside, so it takes that terminal's size (over consoleSize)
 * before the process runs, not at the first resize after it started.
 */
function mirrorCallerTerminal(proc: Process): Process {
  const size = callerWindowSize();
  return size === undefined ? proc : { ...proc, consoleSize: size };
}
