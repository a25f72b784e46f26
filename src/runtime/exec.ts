import { closeSync } from 'node:fs';
import { errnoMessage, errnoName } from '../../ffi/syscall-error.js';
import { execProcess, type ExecProcessOptions } from './exec-process.js';
import { waitInForeground } from './foreground.js';
import { joinContainer } from './join-container.js';
import { withLock } from './lock.js';
import type { GlobalOptions } from './options.js';
import { writePidFile } from './pid-file.js';
import { StateStore } from './state-store.js';
import { ociState } from './oci-state.js';
import { liveStatus } from './status.js';
import { attachTerminal, sendToConsoleSocket } from './terminal.js';

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
  const store = new StateStore(g.root);
  // The lock covers the launch only: a long-running exec must not keep
  // `kill` or `delete` from the container.
  if (o.consoleSocket !== undefined && o.tty !== true && o.processFile === undefined) {
    throw new Error('--console-socket: there is no terminal to send without -t/--tty; drop the flag or add -t');
  }
  const { puppet, terminal, path } = await withLock(store, o.id, () => {
    const record = store.read(o.id);
    const status = liveStatus(store, record);
    if (status === 'stopped') throw new Error('cannot exec in a stopped container');
    if (status === 'paused') throw new Error('cannot exec in a paused container; resume it first');
    const spec = store.readConfig(o.id);
    if (spec === undefined) throw new Error(`container ${o.id} has no config snapshot in its state directory; it cannot be joined`);
    const proc = execProcess(spec.process, o);
    if (proc.terminal === true && o.detach && o.consoleSocket === undefined) {
      throw new Error('exec -t -d: a detached process needs --console-socket to hand its terminal to');
    }
    return { ...joinContainer(record, spec, proc, o.preserveFds, ociState(record, status, spec)), path: proc.args?.[0] ?? '' };
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
  if (terminal !== undefined && o.consoleSocket !== undefined) sendToConsoleSocket(o.consoleSocket, terminal);
  if (o.detach) return 0;
  const attached = terminal === undefined || o.consoleSocket !== undefined ? undefined : attachTerminal(terminal);
  const code = await waitInForeground(puppet);
  await attached?.finish();
  return code;
}
