import { cgroupPids } from './container-cgroup.js';
import { logger } from './log.js';
import { withLock } from './lock.js';
import type { GlobalOptions } from './options.js';
import { StateStore } from './state-store.js';
import { liveStatus } from './status.js';

/**
 * `tsrun kill`: signals the container's init process, or with `all` every
 * process in its cgroup. Like runc, `all` on a stopped container is allowed
 * (it catches stragglers of a container without its own pid namespace).
 */
export async function kill(g: GlobalOptions, id: string, signal: number, all: boolean): Promise<void> {
  const store = new StateStore(g.root);
  await withLock(store, id, () => {
    const record = store.read(id);
    if (all && record.cgroupPath !== undefined) {
      signalCgroup(record.cgroupPath, signal);
      return;
    }
    // Without a cgroup, --all can only reach the init process.
    if (liveStatus(store, record) === 'stopped') {
      if (all) return;
      throw new Error('container not running');
    }
    try {
      process.kill(record.pid, signal);
    } catch (error) {
      // The init exited between the status check and the signal.
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') throw new Error('container not running');
      throw error;
    }
  });
}

/**
 * Signals every process in the cgroup and the cgroups below it, once; a
 * process that exits meanwhile is no failure.
 */
export function signalCgroup(cgroupPath: string, signal: number): void {
  for (const pid of cgroupPids(cgroupPath)) {
    try {
      process.kill(pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') {
        logger.warn(`signal ${signal} to pid ${pid} of ${cgroupPath}: ${(error as Error).message}`);
      }
    }
  }
}

