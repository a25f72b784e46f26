import type { LinuxNetwork } from '../../../../config/types.js';
import { cgroupWrite, type Planned } from '../../v2/resources/cgroup-write.js';

/**
 * linux.resources.network.classID → net_cls.classid: packets of the
 * container carry it, for tc filters and iptables' cgroup match.
 */
export function planNetClass(network: LinuxNetwork | undefined, p: Planned): void {
  if (network?.classID !== undefined) {
    p.writes.push(cgroupWrite('net_cls.classid', String(network.classID), 'linux.resources.network.classID'));
  }
}

/**
 * linux.resources.network.priorities → net_prio.ifpriomap, one
 * "<interface> <priority>" per write (the file takes one pair at a time).
 */
export function planNetPriority(network: LinuxNetwork | undefined, p: Planned): void {
  (network?.priorities ?? []).forEach((priority, index) => {
    p.writes.push(cgroupWrite('net_prio.ifpriomap', `${priority.name} ${priority.priority}`, `linux.resources.network.priorities[${index}]`));
  });
}
