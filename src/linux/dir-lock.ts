import { fstatSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { LOCK, O } from '../../ffi/constants.js';
import { lastErrno, libc } from '../../ffi/libc.js';
import { SyscallError } from '../../ffi/syscall-error.js';

const { EINTR } = constants.errno;

/** An exclusive flock held on a directory until release (or until this process ends). */
export interface DirectoryLock {
  /** Whether the locked directory is still the one at its path (not removed, nor replaced, while we waited). */
  stillAtPath(): boolean;
  release(): void;
}

/**
 * Block until this process holds an exclusive flock on `dir`. The kernel
 * drops the lock when the fd is closed, so a crashed holder never leaves it
 * locked. A missing directory throws a SyscallError with code ENOENT.
 */
export function lockDirectory(dir: string): DirectoryLock {
  const fd = libc().open(dir, O.RDONLY | O.DIRECTORY | O.CLOEXEC);
  if (fd < 0) throw new SyscallError('open', lastErrno(), dir);
  for (;;) {
    if (libc().flock(fd, LOCK.EX) === 0) break;
    const errno = lastErrno();
    if (errno === EINTR) continue;
    libc().close(fd);
    throw new SyscallError('flock', errno, dir);
  }
  let held = true;
  return {
    stillAtPath() {
      try {
        const locked = fstatSync(fd);
        const now = statSync(dir);
        return locked.ino === now.ino && locked.dev === now.dev;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw error;
      }
    },
    release() {
      if (!held) return;
      libc().close(fd);
      held = false;
    },
  };
}
