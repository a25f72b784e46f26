import { chmodSync } from 'node:fs';
import { O } from '../../../ffi/constants.js';
import { lastErrno, libc } from '../../../ffi/libc.js';
import { SyscallError } from '../../../ffi/syscall-error.js';

/**
 * The exec fifo: the container process blocks opening it for reading until
 * `tsrun start` opens it for writing. Others may read, so that a container
 * process running as any user can open it through its inherited O_PATH fd;
 * no other user can reach it, as the state root is 0700. Returns that fd.
 */
export function makeExecFifo(path: string): number {
  if (libc().mkfifo(path, 0o644) !== 0) throw new SyscallError('mkfifo', lastErrno(), path);
  // mkfifo applies the umask; the container process, whatever its uid, must be able to open it.
  chmodSync(path, 0o644);
  const fd = libc().open(path, O.PATH | O.CLOEXEC);
  if (fd < 0) throw new SyscallError('open', lastErrno(), path);
  return fd;
}
