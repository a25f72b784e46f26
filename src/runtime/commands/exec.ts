import { closeSync } from 'node:fs';
import { errnoMessage, errnoName } from '../../linux/kernel.js';
import { Container } from '../container/container.js';
import { execProcess, type ExecProcessOptions } from '../process/exec-process.js';
import { waitInForeground } from '../process/foreground.js';
import { joinContainer } from '../process/exec-conductor.js';
import type { GlobalOptions } from '../options.js';
import { writePidFile } from '../process/pid-file.js';
import { sendToConsoleSocket } from '../../linux/process/pty-master.js';
import { attachTerminal } from '../process/terminal.js';

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
  // The lock covers the launch only: a long-running exec must not keep
  // `kill` or `delete` from the container.
  if (o.consoleSocket !== undefined && o.tty !== true && o.processFile === undefined) {
    throw new Error('--console-socket: there is no terminal to send without -t/--tty; drop the flag or add -t');
  }
  const { puppet, terminal, path } = await Container.locked(g.root, o.id, (container) => {
    const status = container.allow('exec');
    const spec = container.config();
    const proc = execProcess(spec.process, o);
    if (proc.terminal === true && o.detach && o.consoleSocket === undefined) {
      throw new Error('exec -t -d: a detached process needs --console-socket to hand its terminal to');
    }
    return { ...joinContainer(container, spec, proc, o.preserveFds, container.state(status)), path: proc.args?.[0] ?? '' };
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
