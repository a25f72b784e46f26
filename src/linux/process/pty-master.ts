import { closeSync } from 'node:fs';
import { takeFd } from '../../../ffi/pidfd.js';
import { assertPtyMaster, ptyName, setWindowSize } from '../../../ffi/pty.js';
import { sendFd } from '../../../ffi/unix-socket.js';
import type { ConsoleSize } from '../../config/types.js';

/**
 * The master of the pty a container process opened at `plannedFd`, copied
 * into tsrun, checked to be a pty master, and sized as process.consoleSize
 * asks.
 */
export function takePtyMaster(pid: number, plannedFd: number, size: ConsoleSize | undefined): number {
  const master = takeFd(pid, plannedFd);
  try {
    assertPtyMaster(master, `fd ${plannedFd} of the container process ${pid}`);
    if (size !== undefined) setWindowSize(master, size.height, size.width);
    return master;
  } catch (error) {
    closeSync(master);
    throw error;
  }
}

/** Hand the master to whoever listens on --console-socket (an engine), and let go of it. */
export function sendToConsoleSocket(path: string, master: number): void {
  try {
    sendFd(path, master, ptyName(master));
  } finally {
    closeSync(master);
  }
}
