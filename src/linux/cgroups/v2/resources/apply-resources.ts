import { constants } from 'node:os';
import { join } from 'node:path';
import type { HostKernel } from '../../../../../ffi/host-kernel.js';
import { SyscallError } from '../../../../../ffi/syscall-error.js';
import { isMissingFile } from '../../missing-file.js';
import type { CgroupWrite } from './cgroup-write.js';

/**
 * Make the planned writes in the container's cgroup, in order, stopping at
 * the first failure with an error that names the file, the errno, the
 * config field and what to do. The controllers must be enabled already
 * (controllers.ts). A file the cgroup does not have is reported as ENOENT,
 * whatever errno the kernel chose (see missing-file.ts).
 */
export function writeResources(kernel: Pick<HostKernel, 'writeFile' | 'readFile'>, cgroupDir: string, writes: readonly CgroupWrite[]): void {
  for (const w of writes) writeOne(kernel, cgroupDir, w);
}

function writeOne(kernel: Pick<HostKernel, 'writeFile' | 'readFile'>, cgroupDir: string, w: CgroupWrite): void {
  const path = join(cgroupDir, w.file);
  try {
    kernel.writeFile(path, w.value, w.field);
  } catch (error) {
    if (!(error instanceof SyscallError)) throw error;
    const code = isMissingFile(kernel, path, error) ? 'ENOENT' : error.code;
    if (code === 'ENOENT' && w.fallback !== undefined) {
      writeOne(kernel, cgroupDir, w.fallback);
      return;
    }
    if (w.tolerate?.includes(code) === true) return;
    const errno = code === error.code ? error.errno : constants.errno.ENOENT;
    throw new SyscallError('write', errno, `${JSON.stringify(w.value)} to ${path} (${w.field})`, writeHint(code, w));
  }
}

function writeHint(code: string, w: CgroupWrite): string {
  switch (code) {
    case 'ENOENT':
      return `this kernel has no ${w.file}${w.controller === undefined ? '' : ` for the ${w.controller} controller`} (an older kernel, or a name it does not know); remove the field`;
    case 'EINVAL':
    case 'ERANGE':
    case 'EOVERFLOW':
      return `the kernel refused the value; check it against ${w.file} in the kernel's cgroup v2 documentation`;
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return "tsrun may not write the cgroup's files; run as root, or delegate the cgroup to this user";
    case 'EBUSY':
      return `the kernel cannot change ${w.file} in the cgroup's present state (for cpuset files: CPUs or nodes a child cgroup still uses); adjust the value`;
    default:
      return 'check the value, or remove the field';
  }
}
