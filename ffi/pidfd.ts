import { lastErrno, libc } from './libc.js';
import { SyscallError } from './syscall-error.js';
import { SYS } from './syscall-numbers.js';

/**
 * A duplicate of fd `fd` of process `pid` (pidfd_getfd(2), Linux 5.6):
 * how the parent takes what the container's process opened for it in its
 * own namespaces: a pty master, a seccomp listener. Close-on-exec, as Node's fds are.
 */
export function takeFd(pid: number, fd: number): number {
  const c = libc();
  const pidfd = Number(c.syscall(SYS.pidfd_open, 'int', pid, 'int', 0));
  if (pidfd < 0) throw new SyscallError('pidfd_open', lastErrno(), `pid ${pid}`);
  try {
    const copy = Number(c.syscall(SYS.pidfd_getfd, 'int', pidfd, 'int', fd, 'int', 0));
    if (copy < 0) throw new SyscallError('pidfd_getfd', lastErrno(), `fd ${fd} of pid ${pid}`);
    return copy;
  } finally {
    c.close(pidfd);
  }
}
