import { hostKernel, SyscallError } from '../../linux/kernel.js';
import { Container } from '../container/container.js';
import { logger } from '../log.js';
import type { GlobalOptions } from '../options.js';

/**
 * `tsrun kill`: signals the container's init process, or with `all` every
 * process in its cgroup. Like runc, `all` on a stopped container is allowed
 * (it catches stragglers of a container without its own pid namespace).
 */
export async function kill(g: GlobalOptions, id: string, signal: number, all: boolean): Promise<void> {
  await Container.locked(g.root, id, (container) => {
    const cgroup = all ? container.cgroup() : undefined;
    if (cgroup !== undefined) {
      for (const warning of cgroup.signal(signal)) logger.warn(warning);
      return;
    }
    // Without a cgroup, --all can only reach the init process.
    if (all && container.status() === 'stopped') return;
    container.allow('kill');
    try {
      hostKernel.kill(container.record.pid, signal);
    } catch (error) {
      // The init exited between the status check and the signal.
      if (error instanceof SyscallError && error.code === 'ESRCH') throw new Error('container not running');
      throw error;
    }
  });
}
