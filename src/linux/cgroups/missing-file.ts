import type { HostKernel } from '../../../ffi/host-kernel.js';
import { SyscallError } from '../../../ffi/syscall-error.js';

/**
 * Whether a failed write means "the cgroup has no such file". Writing opens
 * with O_CREAT, and cgroupfs refuses to create a file with EACCES (EPERM
 * on some kernels) rather than ENOENT; a read, which never creates, tells
 * the two apart. A file that exists but refuses the write stays an error.
 */
export function isMissingFile(kernel: Pick<HostKernel, 'readFile'>, path: string, error: SyscallError): boolean {
  if (error.code === 'ENOENT') return true;
  if (error.code !== 'EACCES' && error.code !== 'EPERM') return false;
  try {
    kernel.readFile(path);
    return false;
  } catch (probe) {
    return probe instanceof SyscallError && probe.code === 'ENOENT';
  }
}
