import { join } from 'node:path';
import { SIGKILL } from '../../../../ffi/constants.js';
import type { HostKernel } from '../../../../ffi/host-kernel.js';
import { SyscallError } from '../../../../ffi/syscall-error.js';
import { hugePageSizes } from '../cgroup-stats.js';
import { isMissingFile } from '../missing-file.js';
import { makeCgroupDir, removeEmpty, removeTree, signalTree, treePids } from '../cgroup-tree.js';
import { DEVICES_FIELD, type CgroupDriver, type CgroupPlacement, type ContainerCgroup } from '../manager.js';
import { applyResources, cgroupDirectory, checkResources } from './cgroup2.js';
import { applyDeviceRules } from './device-cgroup.js';
import { isPlacementFrozen } from '../frozen.js';
import { setFrozen } from './freezer.js';
import { checkMemoryAboveUsage } from './resources/check-memory-usage.js';
import { requestedFields } from './resources/plan-resources.js';
import { watchMemoryEvents } from './oom-events.js';
import { readCgroupStats } from './stats.js';

/**
 * cgroup v2: one directory in the cgroup2 hierarchy, limits written as v2
 * files after the controllers are enabled down to it, device rules as a
 * BPF program.
 */
export const v2Driver: CgroupDriver = {
  plan(kernel, request) {
    const dir = cgroupDirectory(request.cgroupsPath, request.id, request.systemd);
    const resources = checkResources(kernel, request.resources);
    const devices = request.resources?.devices ?? [];
    let created: string[] = [];
    return {
      version: 2,
      dirs: { '': dir },
      ignored: resources.ignored,
      requested: [...(devices.length > 0 ? [DEVICES_FIELD] : []), ...requestedFields(resources.writes)],
      create(pid) {
        created = makeCgroupDir(kernel, dir);
        try {
          kernel.writeFile(join(dir, 'cgroup.procs'), String(pid), 'linux.cgroupsPath');
        } catch (error) {
          removeEmpty(kernel, created);
          throw error;
        }
        return open(kernel, { version: 2, dirs: { '': dir }, createdParents: created.slice(1) });
      },
      applyLimits() {
        applyDeviceRules(dir, request.resources?.devices);
        applyResources(kernel, dir, resources.writes);
      },
    };
  },
  open,
};

function open(kernel: HostKernel, placement: CgroupPlacement): ContainerCgroup {
  const dir = placement.dirs[''];
  if (dir === undefined) throw new Error(`a cgroup v2 placement without a cgroup2 directory: ${JSON.stringify(placement)}`);
  return {
    placement,
    join(pid) {
      kernel.writeFile(join(dir, 'cgroup.procs'), String(pid), "the container's cgroup");
    },
    update(resources, changed) {
      // Device rules stay as create attached them: they are a BPF program, not files.
      const { devices: _kept, ...limits } = resources;
      const plan = checkResources(kernel, limits);
      // Only new limits are checked: one kept from before may sit at the usage already.
      const checkBeforeUpdate = resources.memory?.checkBeforeUpdate;
      checkMemoryAboveUsage(kernel, dir, { ...changed.memory, ...(checkBeforeUpdate === undefined ? {} : { checkBeforeUpdate }) });
      applyResources(kernel, dir, plan.writes);
      return plan.ignored;
    },
    setFrozen: (frozen) => setFrozen(kernel, dir, frozen),
    isFrozen: () => isPlacementFrozen(placement, kernel),
    stats: () => readCgroupStats(kernel, dir, hugePageSizes()),
    oomKills() {
      try {
        const line = kernel
          .readFile(join(dir, 'memory.events'))
          .split('\n')
          .find((l) => l.startsWith('oom_kill '));
        return Number(line?.slice('oom_kill '.length) ?? 0);
      } catch {
        // No memory controller: no OOM kill can be seen.
        return 0;
      }
    },
    watchOoms: (onEvent) => watchMemoryEvents(dir, onEvent),
    pids: () => treePids(dir),
    signal: (signal) => signalTree(kernel, dir, signal),
    async destroy() {
      const warnings: string[] = [];
      const left = await removeTree(kernel, dir, () => killTree(kernel, dir, warnings));
      if (left !== undefined) warnings.push(left);
      removeEmpty(kernel, placement.createdParents);
      return warnings;
    },
  };
}

/**
 * SIGKILL every process of the tree: through cgroup.kill where the kernel
 * has it (5.14+), which also catches processes forked while we look; else
 * one pid at a time. SIGKILL reaches frozen tasks on cgroup v2.
 */
function killTree(kernel: HostKernel, dir: string, warnings: string[]): void {
  const file = join(dir, 'cgroup.kill');
  try {
    kernel.writeFile(file, '1');
  } catch (error) {
    if (!(error instanceof SyscallError && isMissingFile(kernel, file, error))) throw error;
    warnings.push(...signalTree(kernel, dir, SIGKILL));
  }
}
