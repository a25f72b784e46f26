import type { ContainerRecord } from './container-record.js';

/**
 * The container's cgroup, for a command that needs one (`what` finishes
 * "so it cannot be ..."). An unprivileged caller without a delegated
 * cgroup runs its containers without one, as runc does.
 */
export function cgroupOf(record: ContainerRecord, what: string): string {
  if (record.cgroupPath === undefined) {
    throw new Error(`container ${record.id} has no cgroup (it was created by a user without a delegated cgroup), so it cannot be ${what}`);
  }
  return record.cgroupPath;
}
