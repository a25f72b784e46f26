import { containerCgroupPath, refuseSharedCgroup } from '../cgroups-path.js';
import type { CgroupRequest } from '../manager.js';
import { directoryOf, processCgroups, type CgroupLayout } from '../layout.js';

/** Key of the cgroup2 tree in CgroupPlacement.dirs (its name in /proc/<pid>/cgroup). */
export const UNIFIED = '';

/** The container's cgroup directory in every hierarchy, and tsrun's own there, keyed by the hierarchy's name. */
export interface Directories {
  readonly dirs: Record<string, string>;
  /** Where tsrun (and so a process it has just cloned) is: a failed create moves the process back there. */
  readonly own: Record<string, string>;
}

/**
 * As runc's v1 driver: every mounted v1 hierarchy gets a directory, named
 * ones (name=systemd) included, so that tools reading /proc/<pid>/cgroup
 * find the container in each; so does the cgroup2 tree of a hybrid host.
 * A relative cgroupsPath, or none, is taken from tsrun's own cgroup in each
 * hierarchy (they differ: a host may keep tsrun in a memory cgroup of its
 * own), an absolute one from each root.
 */
export function containerDirs(
  request: Pick<CgroupRequest, 'id' | 'cgroupsPath' | 'systemd'>,
  layout: CgroupLayout,
  own: ReadonlyMap<string, string> = processCgroups(),
): Directories {
  const directories: Directories = { dirs: {}, own: {} };
  const hierarchies = [...layout.v1, ...(layout.unified === undefined ? [] : [layout.unified])];
  for (const hierarchy of hierarchies) {
    const ownPath = own.get(hierarchy.name) ?? '/';
    const ownDir = directoryOf(hierarchy, ownPath);
    const path = containerCgroupPath(request.cgroupsPath, request.id, { systemd: request.systemd, own: ownPath, defaultUnderOwn: true });
    const dir = directoryOf(hierarchy, path);
    const rootName = hierarchy.version === 2 ? 'the cgroup2 root' : `the root of the cgroup v1 ${hierarchy.name} hierarchy`;
    refuseSharedCgroup(dir, hierarchy.mountPoint, ownDir, rootName);
    directories.dirs[hierarchy.name] = dir;
    directories.own[hierarchy.name] = ownDir;
  }
  return directories;
}

/** The v1 controllers a hierarchy carries, from its name ("cpu,cpuacct" → cpu, cpuacct; "name=systemd" → none). */
export function controllersOf(name: string): string[] {
  return name === UNIFIED ? [] : name.split(',').filter((c) => !c.startsWith('name='));
}

/** Which hierarchy (its key in dirs) carries each v1 controller. */
export function hierarchyOfController(dirs: Readonly<Record<string, string>>): Map<string, string> {
  const owners = new Map<string, string>();
  for (const name of Object.keys(dirs)) for (const controller of controllersOf(name)) owners.set(controller, name);
  return owners;
}
