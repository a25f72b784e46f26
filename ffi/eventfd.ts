import { lastErrno, libc } from './libc.js';
import { SyscallError } from './syscall-error.js';

const EFD_CLOEXEC = 0o2000000;

/** A new eventfd(2), close-on-exec, its counter at 0. */
export function eventfd(): number {
  const fd = libc().eventfd(0, EFD_CLOEXEC);
  if (fd < 0) throw new SyscallError('eventfd', lastErrno());
  return fd;
}
