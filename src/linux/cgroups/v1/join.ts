import { join } from 'node:path';
import type { HostKernel } from '../../../../ffi/host-kernel.js';
import { SyscallError } from '../../../../ffi/syscall-error.js';

/**
 * Move a process into one of the container's cgroups. The error names the
 * file, the pid and the errno; a cpuset without CPUs or nodes (ENOSPC)
 * says so. EACCES and EPERM stay as the kernel gave them: planCgroup tells
 * an unprivileged caller's "no cgroup delegated" by them.
 */
export function joinCgroup(kernel: Pick<HostKernel, 'writeFile'>, dir: string, pid: number, field = 'linux.cgroupsPath'): void {
  const file = join(dir, 'cgroup.procs');
  try {
    kernel.writeFile(file, String(pid), field);
  } catch (error) {
    if (!(error instanceof SyscallError)) throw error;
    throw new SyscallError('write', error.errno, `"${pid}" to ${file} (${field})`, joinHint(error.code));
  }
}

function joinHint(code: string): string | undefined {
  switch (code) {
    case 'ENOSPC':
      return "the cpuset cgroup has no CPUs or memory nodes (an existing parent's cpuset.cpus or cpuset.mems is empty); fill them, or choose another linux.cgroupsPath";
    case 'ESRCH':
      return 'the process exited before it could join';
    case 'EACCES':
    case 'EPERM':
      return undefined;
    default:
      return 'the kernel refused to move the process into the cgroup';
  }
}
