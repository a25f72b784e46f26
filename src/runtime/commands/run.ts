import { errnoMessage, errnoName } from '../../linux/kernel.js';
import { createContainer } from './create.js';
import { deleteContainer } from './delete.js';
import { waitInForeground, withSignalsHeld, type SignalRelay } from '../process/foreground.js';
import type { GlobalOptions, RunOptions } from '../options.js';
import { start } from './start.js';
import { attachTerminal, mirrorCallerSize } from '../process/terminal.js';

/**
 * `tsrun run`: create and start; unless detached, stay in the foreground,
 * forward signals, and exit with the container's exit code (128+n for a
 * signal), deleting the container afterwards unless --keep.
 */
export async function run(g: GlobalOptions, o: RunOptions): Promise<number> {
  return withSignalsHeld(!o.detach, (relay) => createStartAndWait(g, o, relay));
}

async function createStartAndWait(g: GlobalOptions, o: RunOptions, relay: SignalRelay): Promise<number> {
  const { puppet, terminal } = await createContainer(g, o, !o.detach);
  // The pty mirrors tsrun's terminal: sized before start lets the process run, not after.
  if (terminal !== undefined) mirrorCallerSize(terminal);
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
  const attached = terminal === undefined ? undefined : attachTerminal(terminal);
  const code = await waitInForeground(puppet, relay);
  await attached?.finish();
  if (!o.keep) await deleteContainer(g, o.id, true);
  if (execErrno !== undefined) {
    process.stderr.write(`tsrun: exec failed: ${errnoName(execErrno)} (${errnoMessage(execErrno)})\n`);
  }
  return code;
}

