import type { LinuxHugepageLimit } from '../../../../config/types.js';
import { cgroupWrite, type Planned } from '../../v2/resources/cgroup-write.js';

/**
 * linux.resources.hugepageLimits on cgroup v1: hugetlb.<pageSize>.limit_in_bytes,
 * and the same limit on reservations (hugetlb.<pageSize>.rsvd.limit_in_bytes,
 * Linux 5.7+), which the spec prefers where the kernel has them, as runc
 * writes them. Older kernels have no .rsvd files, which is then no error.
 */
export function planHugetlb(limits: readonly LinuxHugepageLimit[] | undefined, p: Planned): void {
  (limits ?? []).forEach((limit, index) => {
    const field = `linux.resources.hugepageLimits[${index}]`;
    const value = String(limit.limit);
    p.writes.push(cgroupWrite(`hugetlb.${limit.pageSize}.limit_in_bytes`, value, field));
    p.writes.push(cgroupWrite(`hugetlb.${limit.pageSize}.rsvd.limit_in_bytes`, value, field, { tolerate: ['ENOENT'] }));
  });
}
