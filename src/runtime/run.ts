import { errnoName, errnoMessage } from '../../ffi/syscall-error.js';
import { createContainer } from './create.js';
import { deleteContainer } from './delete.js';
import type { GlobalOptions, RunOptions } from './options.js';
import { start } from './start.js';

// Signals a foreground `run` passes on to the container, as runc does.
const FORWARDED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

/**
 * `tsrun run`: create and start; unless detached, stay in the foreground,
 * forward signals, and exit with the container's exit code (128+n for a
 * signal), deleting the container afterwards unless --keep.
 */
export async function run(g: GlobalOptions, o: RunOptions): Promise<number> {
  const { puppet } = createContainer(g, o);
  try {
    await start(g, o.id);
  } catch (error) {
    puppet.detach();
    await deleteContainer(g, o.id, true);
    throw error;
  }
  if (o.detach) {
    puppet.detach();
    return 0;
  }
  const execErrno = puppet.execOutcome();
  puppet.detach();
  const forward = (signal: NodeJS.Signals) => {
    try {
      process.kill(puppet.pid, signal);
    } catch {
      // Already gone: the exit status arrives next.
    }
  };
  for (const signal of FORWARDED) process.on(signal, forward);
  let status: number;
  try {
    status = await puppet.waitForExit();
  } finally {
    for (const signal of FORWARDED) process.off(signal, forward);
  }
  if (!o.keep) await deleteContainer(g, o.id, true);
  if (execErrno !== undefined) {
    process.stderr.write(`tsrun: exec failed: ${errnoName(execErrno)} (${errnoMessage(execErrno)})\n`);
  }
  return exitCode(status);
}

function exitCode(status: number): number {
  const signal = status & 0x7f;
  if (signal === 0) return (status >> 8) & 0xff;
  return 128 + signal;
}

