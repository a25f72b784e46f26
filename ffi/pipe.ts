import { O } from './constants.js';
import { lastErrno, libc } from './libc.js';
import { SyscallError } from './syscall-error.js';

/** pipe2(O_CLOEXEC): [read end, write end]. Close-on-exec: a chain keeps an fd only by naming it. */
export function pipe(): [number, number] {
  const fds = [0, 0];
  if (libc().pipe2(fds, O.CLOEXEC) !== 0) throw new SyscallError('pipe2', lastErrno());
  return [fds[0] ?? -1, fds[1] ?? -1];
}
