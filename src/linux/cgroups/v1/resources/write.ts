import { join } from 'node:path';
import type { HostKernel } from '../../../../../ffi/host-kernel.js';
import { writeCgroupFile } from '../../cgroup-file.js';
import type { CgroupWrite } from '../../v2/resources/cgroup-write.js';

type Kernel = Pick<HostKernel, 'writeFile' | 'readFile'>;

/**
 * Make one planned write in a cgroup v1 directory, with hints that know
 * v1's files (see cgroup-file.ts).
 */
export function writeV1(kernel: Kernel, dir: string, w: CgroupWrite): void {
  writeCgroupFile(kernel, dir, w, (code, write) => hint(kernel, dir, code, write));
}

function hint(kernel: Kernel, dir: string, code: string, w: CgroupWrite): string {
  switch (code) {
    case 'ENOENT':
      return missingHint(w);
    case 'EBUSY':
      if (w.file.startsWith('memory.')) return `${usage(kernel, dir, w.file)}, more than the new limit, and the kernel could not reclaim enough; give a larger value`;
      if (w.file.startsWith('cpuset.')) return 'a child cgroup still uses CPUs or nodes this value leaves out; adjust the value';
      return `the kernel cannot change ${w.file} in the cgroup's present state; adjust the value`;
    case 'EINVAL':
    case 'ERANGE':
    case 'EOVERFLOW':
      if (w.file === 'memory.limit_in_bytes') return 'the limit may not exceed memory+swap (memory.memsw.limit_in_bytes); raise linux.resources.memory.swap with it';
      if (w.file === 'memory.memsw.limit_in_bytes') return 'memory+swap must be at least memory.limit_in_bytes; set linux.resources.memory.limit no higher than the swap field';
      if (w.file === 'memory.use_hierarchy') return 'memory accounting is hierarchical below this cgroup (always, since Linux 5.11); remove the field or set it to true';
      if (w.file.startsWith('cpu.rt_')) return "the parent cgroup's real-time runtime does not leave room for this one (see cpu.rt_runtime_us of the parents); lower the value";
      if (w.file.startsWith('cpu.cfs_')) return 'the kernel refused the value: a period is 1000..1000000 µs, and a child may not exceed its parents\' quota; check the value';
      return `the kernel refused the value; check it against ${w.file} in the kernel's cgroup v1 documentation (Documentation/admin-guide/cgroup-v1/)`;
    case 'EPERM':
      if (w.file === 'devices.allow') return 'a cgroup cannot allow a device its parent cgroup denies (see devices.list of the parent)';
      return "tsrun may not write the cgroup's files; run as root";
    case 'EACCES':
    case 'EROFS':
      return "tsrun may not write the cgroup's files; run as root";
    case 'ENOSPC':
      return 'the parent cgroup has no room for this value; check the parent cgroup';
    default:
      return 'check the value, or remove the field';
  }
}

function missingHint(w: CgroupWrite): string {
  if (w.file.startsWith('memory.memsw.')) {
    return 'this kernel does not account swap (memory.memsw.* needs CONFIG_MEMCG_SWAP, and swapaccount=1 on some kernels); remove the field';
  }
  if (w.file.startsWith('blkio.leaf_weight')) return 'leaf weights belonged to the CFQ scheduler, which Linux 5.0 removed; remove the field';
  if (w.file === 'blkio.bfq.weight' || w.file === 'blkio.bfq.weight_device') {
    return 'neither CFQ nor BFQ weights are available (the BFQ scheduler is not built, or not selected for any disk); remove the field';
  }
  if (w.file === 'cpu.cfs_burst_us') return 'CPU burst needs Linux 5.14 or later; remove the field';
  if (w.file === 'cpu.idle') return 'idle cgroups need Linux 5.15 or later; remove the field';
  if (w.file.startsWith('cpu.rt_')) return 'this kernel has no real-time group scheduling (CONFIG_RT_GROUP_SCHED); remove the field';
  if (w.file.startsWith('cpu.cfs_')) return 'this kernel has no CPU bandwidth control (CONFIG_CFS_BANDWIDTH); remove the field';
  if (w.file.startsWith('hugetlb.')) return 'this kernel has no huge pages of that size (see /sys/kernel/mm/hugepages); fix the pageSize or remove the limit';
  const controller = w.file.slice(0, w.file.indexOf('.'));
  return `this kernel has no ${w.file} for the ${controller} controller (an older kernel, or a name it does not know); remove the field`;
}

function usage(kernel: Kernel, dir: string, file: string): string {
  const counter = file.startsWith('memory.memsw.') ? 'memory.memsw.usage_in_bytes' : 'memory.usage_in_bytes';
  try {
    return `the container uses ${kernel.readFile(join(dir, counter)).trim()} bytes (${counter})`;
  } catch {
    return 'the container uses more';
  }
}
