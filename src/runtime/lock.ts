import { constants } from 'node:os';
import { LOCK, O } from '../../ffi/constants.js';
import { lastErrno, libc } from '../../ffi/libc.js';
import { SyscallError } from '../../ffi/syscall-error.js';
import { ContainerNotFoundError, type StateStore } from './state-store.js';

const { ENOENT, EINTR } = constants.errno;

/**
 * Exclusive ownership of one container between tsrun processes: flock on the
 * container directory. The kernel drops the lock when the fd is closed, so a
 * crashed tsrun never leaves a container locked.
 */
export class ContainerLock {
  #fd: number | undefined;

  constructor(fd: number) {
    this.#fd = fd;
  }

  release(): void {
    if (this.#fd === undefined) return;
    libc().close(this.#fd);
    this.#fd = undefined;
  }
}

/** Blocks until this process holds the container's lock. */
export function lockContainer(store: StateStore, id: string): ContainerLock {
  const dir = store.dir(id);
  const fd = libc().open(dir, O.RDONLY | O.DIRECTORY | O.CLOEXEC);
  if (fd < 0) {
    const errno = lastErrno();
    if (errno === ENOENT) throw new ContainerNotFoundError(id);
    throw new SyscallError('open', errno, dir);
  }
  for (;;) {
    if (libc().flock(fd, LOCK.EX) === 0) return new ContainerLock(fd);
    const errno = lastErrno();
    if (errno === EINTR) continue;
    libc().close(fd);
    throw new SyscallError('flock', errno, dir);
  }
}

/** Runs `fn` holding the container's lock, and releases it however `fn` ends. */
export async function withLock<T>(store: StateStore, id: string, fn: () => T | Promise<T>): Promise<T> {
  const lock = lockContainer(store, id);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}
