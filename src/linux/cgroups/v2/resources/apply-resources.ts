import type { HostKernel } from '../../../../../ffi/host-kernel.js';
import { writeCgroupFile } from '../../cgroup-file.js';
import type { CgroupWrite } from './cgroup-write.js';

/**
 * Make the planned writes in the container's cgroup, in order, stopping at
 * the first failure with an error that names the file, the errno, the
 * config field and what to do. The controllers must be enabled already
 * (controllers.ts). A file the cgroup does not have is reported as ENOENT,
 * whatever errno the kernel chose (see missing-file.ts).
 */
export function writeResources(kernel: Pick<HostKernel, 'writeFile' | 'readFile'>, cgroupDir: string, writes: readonly CgroupWrite[]): void {
  for (const w of writes) writeCgroupFile(kernel, cgroupDir, w, writeHint);
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
