import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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

/** Pids in the cgroup's subtree; a cgroup removed while we look holds none. */
export function cgroupPids(cgroupPath: string): number[] {
  try {
    const pids = readFileSync(join(cgroupPath, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map(Number);
    for (const entry of readdirSync(cgroupPath, { withFileTypes: true })) {
      if (entry.isDirectory()) pids.push(...cgroupPids(join(cgroupPath, entry.name)));
    }
    return pids;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
