import { lockDirectory, type DirectoryLock } from '../../linux/dir-lock.js';
import { SyscallError } from '../../linux/kernel.js';
import { ContainerNotFoundError, type StateStore } from './state-store.js';

/**
 * Exclusive ownership of one container between tsrun processes: a flock on
 * its state directory, which the kernel drops with the fd, so a crashed
 * tsrun never leaves a container locked. Blocks until it is ours.
 */
export function lockContainer(store: StateStore, id: string): DirectoryLock {
  try {
    return lockDirectory(store.dir(id));
  } catch (error) {
    if (error instanceof SyscallError && error.code === 'ENOENT') throw new ContainerNotFoundError(id);
    throw error;
  }
}
