import { join, resolve } from 'node:path';
import type { HostKernel } from '../../../../ffi/host-kernel.js';
import type { LinuxResources } from '../../../config/types.js';
import { readMountInfo, type MountInfoEntry } from '../../mountinfo.js';
import { containerCgroupPath, refuseSharedCgroup } from '../cgroups-path.js';
import { processCgroups } from '../layout.js';
import { writeResources } from './resources/apply-resources.js';
import type { CgroupWrite } from './resources/cgroup-write.js';
import { availableWrites, enableControllers } from './resources/controllers.js';
import { planResources, type ResourcePlan } from './resources/plan-resources.js';

/**
 * Where cgroup2 is mounted: /sys/fs/cgroup on a pure cgroup v2 host, or the
 * "unified" tree of a hybrid host (where v1 controllers keep memory, cpu...).
 */
export function cgroup2Mount(mounts: readonly MountInfoEntry[] = readMountInfo()): string {
  const mount = mounts.find((m) => m.fsType === 'cgroup2');
  if (mount === undefined) {
    throw new Error('no cgroup2 filesystem is mounted on this host; tsrun manages cgroup v2 only (mount cgroup2 on /sys/fs/cgroup)');
  }
  return mount.mountPoint;
}

/** The cgroup of the calling process, relative to the cgroup2 root ("0::/path" in /proc/self/cgroup). */
export function ownCgroup(): string {
  return processCgroups().get('') ?? '/';
}

/**
 * The container's cgroup directory, from linux.cgroupsPath: absolute paths
 * are taken from the cgroup2 root, relative ones from the caller's own
 * cgroup, and no path means /<id> as with runc. systemd's slice:prefix:name
 * is below `systemdBase`, the cgroup of the systemd instance that makes it.
 */
export function cgroupDirectory(cgroupsPath: string | undefined, id: string, systemd: boolean, systemdBase = ''): string {
  const root = cgroup2Mount();
  const own = ownCgroup();
  // resolve() also drops a trailing slash: "/" must compare equal to the root.
  const dir = resolve(join(root, containerCgroupPath(cgroupsPath, id, { systemd, own, defaultUnderOwn: false, systemdBase })));
  refuseSharedCgroup(dir, root, join(root, own), 'the cgroup2 root');
  return dir;
}

/**
 * Plan linux.resources and check that this host's cgroup2 has every
 * controller the plan needs, before anything is created: a config that
 * cgroup v2 or this host cannot honour fails here and leaves nothing
 * behind. Returns the writes to make once the cgroup exists.
 */
export function checkResources(kernel: Pick<HostKernel, 'readFile'>, resources: LinuxResources | undefined): ResourcePlan {
  const plan = planResources(resources);
  if (plan.writes.length === 0) return plan;
  const mounts = readMountInfo();
  return { writes: availableWrites(kernel, cgroup2Mount(mounts), plan.writes, mounts), ignored: plan.ignored };
}

/**
 * Enable the controllers the writes need from the cgroup2 root down to the
 * cgroup's parent, then make the writes in the cgroup. Called while the
 * container's process waits at its first checkpoint: no user code runs
 * before its limits are in place.
 */
export function applyResources(kernel: HostKernel, cgroupDir: string, writes: readonly CgroupWrite[]): void {
  enableControllers(kernel, cgroup2Mount(), cgroupDir, writes);
  writeResources(kernel, cgroupDir, writes);
}
