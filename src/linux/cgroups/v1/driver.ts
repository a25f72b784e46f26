import type { HostKernel } from '../../../../ffi/host-kernel.js';
import type { LinuxResources } from '../../../config/types.js';
import { makeCgroupDir, removeEmpty } from '../cgroup-tree.js';
import { DEVICES_FIELD, type CgroupDriver, type CgroupPlacement, type ContainerCgroup } from '../manager.js';
import { applyDeviceRules } from '../v2/device-cgroup.js';
import { openV1Cgroup } from './container-cgroup.js';
import { fillCpusets, isJoinPrerequisite } from './cpuset-inherit.js';
import { planDevices, type DevicePlan } from './devices.js';
import { joinCgroup } from './join.js';
import { containerDirs, type Directories } from './paths.js';
import { applyWrites } from './resources/apply.js';
import { hostTargets, planV1Resources, requestedFields, type PlacedWrite } from './resources/plan.js';

/**
 * cgroup v1: a directory in every mounted hierarchy (and in the cgroup2
 * tree of a hybrid host), the process moved into each, limits written as
 * v1 files into the hierarchy of their controller, device rules through
 * the v1 devices controller.
 */
export const v1Driver: CgroupDriver = {
  plan(kernel, request, layout) {
    const directories = containerDirs(request, layout);
    const targets = hostTargets(kernel, directories.dirs, layout.unified?.mountPoint);
    const problems: string[] = [];
    const ignored: string[] = [];
    const devices = planDevices(request.resources?.devices, targets, problems, ignored);
    const resources = planV1Resources(withoutDevices(request.resources), targets);
    problems.push(...resources.problems);
    ignored.push(...resources.ignored);
    if (problems.length > 0) throw new Error(problems.join('\n'));
    const cpuset = targets.v1.get('cpuset');
    const beforeJoin = (w: PlacedWrite) => w.hierarchy === cpuset && isJoinPrerequisite(w.write);
    return {
      version: 1,
      dirs: directories.dirs,
      ignored,
      requested: [...((request.resources?.devices ?? []).length > 0 ? [DEVICES_FIELD] : []), ...requestedFields(resources.writes)],
      bySystemd: false,
      prepare: () => Promise.resolve(),
      create(pid) {
        const placement = createCgroups(kernel, directories, pid, cpuset, resources.writes.filter(beforeJoin));
        return openV1Cgroup(kernel, placement);
      },
      applyLimits() {
        applyDevices(kernel, directories.dirs, layout.unified?.mountPoint, devices, request.resources);
        applyWrites(
          kernel,
          directories.dirs,
          layout.unified?.mountPoint,
          resources.writes.filter((w) => !beforeJoin(w)),
        );
      },
    };
  },
  open: (kernel: HostKernel, placement: CgroupPlacement): ContainerCgroup => openV1Cgroup(kernel, placement),
};

function withoutDevices(resources: LinuxResources | undefined): LinuxResources | undefined {
  if (resources === undefined) return undefined;
  const { devices: _devices, ...limits } = resources;
  return limits;
}

/**
 * Make the container's directory in every hierarchy, fill the new cpusets
 * so that they take a process, then move `pid` into each. On failure,
 * the process goes back to where it came from (tsrun's own cgroups: a
 * cgroup holding a process cannot be removed) and every directory made is
 * removed.
 */
function createCgroups(
  kernel: HostKernel,
  { dirs, own }: Directories,
  pid: number,
  cpusetHierarchy: string | undefined,
  cpusetWrites: readonly PlacedWrite[],
): CgroupPlacement {
  const made: string[] = [];
  const joined: string[] = [];
  try {
    for (const [name, dir] of Object.entries(dirs)) {
      const created = makeCgroupDir(kernel, dir);
      made.push(...created);
      if (name === cpusetHierarchy) {
        fillCpusets(
          kernel,
          dir,
          [...created].reverse(),
          cpusetWrites.map((w) => w.write),
        );
      }
    }
    for (const [name, dir] of Object.entries(dirs)) {
      joinCgroup(kernel, dir, pid);
      joined.push(name);
    }
  } catch (error) {
    for (const name of joined) {
      const origin = own[name];
      try {
        if (origin !== undefined) joinCgroup(kernel, origin, pid);
      } catch {
        // The process is then stopped by the caller, which frees the cgroup for a later delete.
      }
    }
    removeEmpty(kernel, deepestFirst(made));
    throw error;
  }
  const containers = new Set(Object.values(dirs));
  return { version: 1, dirs, createdParents: deepestFirst(made.filter((d) => !containers.has(d))) };
}

/** Across hierarchies: a child is always deeper than its parent, whichever hierarchy comes first. */
function deepestFirst(dirs: readonly string[]): string[] {
  const depth = (d: string) => d.split('/').length;
  return [...dirs].sort((a, b) => depth(b) - depth(a));
}

function applyDevices(
  kernel: HostKernel,
  dirs: Readonly<Record<string, string>>,
  unifiedRoot: string | undefined,
  devices: DevicePlan,
  resources: LinuxResources | undefined,
): void {
  if (devices.kind === 'files') applyWrites(kernel, dirs, unifiedRoot, devices.writes);
  if (devices.kind === 'program') {
    const dir = dirs[devices.hierarchy];
    if (dir !== undefined) applyDeviceRules(dir, resources?.devices);
  }
}
