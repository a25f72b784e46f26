import type { LinuxHugepageLimit } from '../../../../config/types.js';
import { cgroupWrite, type Planned } from './cgroup-write.js';

/**
 * linux.resources.hugepageLimits → hugetlb.<pageSize>.max, and the same
 * limit in hugetlb.<pageSize>.rsvd.max: the spec prefers reservation
 * accounting where the kernel has it (5.7+), as runc does. Kernels without
 * it have no .rsvd files, which is then no error.
 */
export function planHugetlb(limits: readonly LinuxHugepageLimit[] | undefined, p: Planned): void {
  (limits ?? []).forEach((limit, index) => {
    const field = `linux.resources.hugepageLimits[${index}]`;
    const value = String(limit.limit);
    p.writes.push(cgroupWrite(`hugetlb.${limit.pageSize}.max`, value, field));
    p.writes.push(cgroupWrite(`hugetlb.${limit.pageSize}.rsvd.max`, value, field, { tolerate: ['ENOENT'] }));
  });
}
