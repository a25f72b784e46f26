import type { LinuxNetwork } from '../../../../config/types.js';
import type { Planned } from './cgroup-write.js';

/**
 * linux.resources.network is cgroup v1's net_cls and net_prio, which
 * cgroup v2 does not have (packets are matched by cgroup path instead, in
 * nftables or BPF). runc skips it on v2 without a word; crun and the
 * runtime-spec's rule for unconvertible v1 settings refuse it.
 */
export function planNetwork(network: LinuxNetwork | undefined, p: Planned): void {
  if (network?.classID !== undefined) {
    p.problems.push('linux.resources.network.classID: cgroup v2 has no net_cls controller; remove the field (match the cgroup path in nftables instead)');
  }
  if ((network?.priorities ?? []).length > 0) {
    p.problems.push('linux.resources.network.priorities: cgroup v2 has no net_prio controller; remove the field');
  }
}
