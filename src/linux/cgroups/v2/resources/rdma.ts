import type { LinuxRdma } from '../../../../config/types.js';
import { cgroupWrite, type Planned } from './cgroup-write.js';

/**
 * linux.resources.rdma → one rdma.max line per device:
 * "<device> hca_handle=<n> hca_object=<n>", naming only the limits given
 * (the kernel keeps the others).
 */
export function planRdma(rdma: Readonly<Record<string, LinuxRdma>> | undefined, p: Planned): void {
  for (const [device, limits] of Object.entries(rdma ?? {})) {
    const parts = [device];
    if (limits.hcaHandles !== undefined) parts.push(`hca_handle=${limits.hcaHandles}`);
    if (limits.hcaObjects !== undefined) parts.push(`hca_object=${limits.hcaObjects}`);
    p.writes.push(cgroupWrite('rdma.max', parts.join(' '), `linux.resources.rdma.${device}`));
  }
}
