import { join } from 'node:path';
import { SIGKILL } from '../../../../ffi/constants.js';
import type { HostKernel } from '../../../../ffi/host-kernel.js';
import { SyscallError } from '../../../../ffi/syscall-error.js';
import { removeEmpty, removeTree, signalTree, treePids } from '../cgroup-tree.js';
import { cgroupLayout } from '../layout.js';
import type { CgroupPlacement, ContainerCgroup } from '../manager.js';
import { isPlacementFrozen } from '../frozen.js';
import { setFreezerState } from './freezer.js';
import { joinCgroup } from './join.js';
import { watchOomControl } from './oom-events.js';
import { hierarchyOfController, UNIFIED } from './paths.js';
import { applyWrites } from './resources/apply.js';
import { checkMemoryAboveUsage } from './resources/check-memory-usage.js';
import { hostTargets, planV1Resources } from './resources/plan.js';
import { readV1Stats } from './stats.js';

/** How long destroy waits for the freezer before killing anyway: it only keeps forks from racing the kill. */
const DESTROY_FREEZE_MS = 1_000;

/** The container's cgroups in every hierarchy, as create left them. */
export function openV1Cgroup(kernel: HostKernel, placement: CgroupPlacement): ContainerCgroup {
  const dirs = placement.dirs;
  const owners = hierarchyOfController(dirs);
  const dirOf = (controller: string): string | undefined => {
    const name = owners.get(controller);
    return name === undefined ? undefined : dirs[name];
  };
  const all = Object.values(dirs);
  // Every hierarchy holds the same processes; the pids one counts them
  // exactly (threads grouped by process), the freezer one is the next best.
  const main = dirOf('pids') ?? dirOf('freezer') ?? all[0];
  if (main === undefined) throw new Error(`a cgroup v1 placement without directories: ${JSON.stringify(placement)}`);
  const freezer = dirOf('freezer');
  const memory = dirOf('memory');

  return {
    placement,
    join(pid) {
      for (const dir of all) joinCgroup(kernel, dir, pid, "the container's cgroup");
    },
    async update(resources, changed) {
      // Device rules stay as create wrote them (ContainerCgroup.update).
      const { devices: _kept, ...limits } = resources;
      const unifiedRoot = dirs[UNIFIED] === undefined ? undefined : cgroupLayout().unified?.mountPoint;
      const plan = planV1Resources(limits, hostTargets(kernel, dirs, unifiedRoot));
      if (plan.problems.length > 0) throw new Error(plan.problems.join('\n'));
      const checkBeforeUpdate = resources.memory?.checkBeforeUpdate;
      checkMemoryAboveUsage(kernel, memory, { ...changed.memory, ...(checkBeforeUpdate === undefined ? {} : { checkBeforeUpdate }) });
      applyWrites(kernel, dirs, unifiedRoot, plan.writes);
      return plan.ignored;
    },
    async setFrozen(frozen) {
      if (freezer === undefined) throw new Error('this host mounts no cgroup v1 freezer hierarchy, so the container cannot be paused (mount -t cgroup -o freezer cgroup /sys/fs/cgroup/freezer)');
      await setFreezerState(kernel, freezer, frozen);
    },
    isFrozen: () => isPlacementFrozen(placement, kernel),
    // CgroupStats is cgroup v2's shape; V1Stats adds what runc reports on v1
    // (per-CPU usage, CPU lists, kernel memory), which callers serialise as is.
    stats: () =>
      readV1Stats(kernel, {
        v1: dirOf,
        unifiedHugetlb: dirOf('hugetlb') === undefined ? dirs[UNIFIED] : undefined,
      }),
    oomKills() {
      if (memory === undefined) return 0;
      try {
        const line = kernel
          .readFile(join(memory, 'memory.oom_control'))
          .split('\n')
          .find((l) => l.startsWith('oom_kill '));
        // Kernels before 4.13 have no oom_kill line: no kill can be seen there.
        return Number(line?.slice('oom_kill '.length) ?? 0);
      } catch {
        return 0;
      }
    },
    watchOoms: (onEvent) => (memory === undefined ? () => undefined : watchOomControl(memory, onEvent)),
    pids: () => treePids(main),
    signal: (signal) => signalTree(kernel, main, signal),
    destroy: () => destroy(kernel, placement, freezer),
  };
}

/**
 * Kill what is left and remove the container's cgroups, then the parents
 * create made. A v1 freezer lets a process fork while its siblings are
 * being killed one by one; so, as runc does, the cgroup is frozen first,
 * every process gets SIGKILL while none can run, and the thaw lets the
 * kills land at once. Each removal kills again what it still finds.
 * Resolves to warnings for what could not be done.
 */
async function destroy(kernel: HostKernel, placement: CgroupPlacement, freezer: string | undefined): Promise<string[]> {
  const warnings = new Set<string>();
  const dirs = Object.values(placement.dirs);
  let frozen = false;
  if (freezer !== undefined) {
    try {
      await setFreezerState(kernel, freezer, true, DESTROY_FREEZE_MS);
      frozen = true;
    } catch (error) {
      if (!(error instanceof SyscallError && error.code === 'ENOENT')) {
        warnings.add(`killing without freezing first (a process may fork meanwhile): ${(error as Error).message}`);
      }
    }
  }
  for (const pid of new Set(dirs.flatMap((dir) => treePids(dir)))) {
    try {
      kernel.kill(pid, SIGKILL);
    } catch (error) {
      if (!(error instanceof SyscallError && error.code === 'ESRCH')) warnings.add(`SIGKILL to pid ${pid}: ${(error as Error).message}`);
    }
  }
  if (frozen && freezer !== undefined) {
    try {
      kernel.writeFile(join(freezer, 'freezer.state'), 'THAWED');
    } catch (error) {
      warnings.add(`cannot thaw ${freezer}, so its killed processes cannot exit: ${(error as Error).message}`);
    }
  }
  for (const dir of dirs) {
    const left = await removeTree(kernel, dir, () => {
      for (const warning of signalTree(kernel, dir, SIGKILL)) warnings.add(warning);
    });
    if (left !== undefined) warnings.add(left);
  }
  try {
    removeEmpty(kernel, placement.createdParents);
  } catch (error) {
    warnings.add(`cannot remove the parent cgroups create made (${placement.createdParents.join(', ')}): ${(error as Error).message}`);
  }
  return [...warnings];
}
