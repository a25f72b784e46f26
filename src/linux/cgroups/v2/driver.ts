import { join } from 'node:path';
import { SIGKILL } from '../../../../ffi/constants.js';
import type { HostKernel } from '../../../../ffi/host-kernel.js';
import { SyscallError } from '../../../../ffi/syscall-error.js';
import { hugePageSizes } from '../cgroup-stats.js';
import { isMissingFile } from '../missing-file.js';
import { makeCgroupDir, removeEmpty, removeTree, signalTree, treePids } from '../cgroup-tree.js';
import { DEVICES_FIELD, type CgroupDriver, type CgroupPlacement, type ContainerCgroup } from '../manager.js';
import { processCgroups } from '../layout.js';
import { scopeOf, setScopeLimits, startScope, stopScope, type SystemdScope } from '../systemd/scope.js';
import { applyResources, cgroup2Mount, cgroupDirectory, checkResources } from './cgroup2.js';
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
    const instance = request.bySystemd;
    const dir = cgroupDirectory(request.cgroupsPath, request.id, request.systemd, instance?.base);
    const resources = checkResources(kernel, request.resources);
    const devices = request.resources?.devices ?? [];
    const target = instance === undefined ? undefined : scopeOf(dir);
    const scope: SystemdScope | undefined = instance === undefined || target === undefined ? undefined : { unit: target.unit, socket: instance.socket, uid: instance.uid };
    let created: string[] = [];
    return {
      version: 2,
      dirs: { '': dir },
      ignored: resources.ignored,
      requested: [...(devices.length > 0 ? [DEVICES_FIELD] : []), ...requestedFields(resources.writes)],
      bySystemd: instance !== undefined,
      prepare: (pid) => (instance === undefined || target === undefined ? Promise.resolve() : startScope(instance, target, request.id, pid, resources.writes)),
      create(pid) {
        if (scope !== undefined) return adoptScope(kernel, pid, dir, scope);
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
        try {
          applyDeviceRules(dir, request.resources?.devices);
        } catch (error) {
          if (!(request.rootless === true && error instanceof SyscallError && error.code === 'EPERM')) throw error;
        }
        applyResources(kernel, dir, resources.writes);
      },
    };
  },
  open,
};

/**
 * The systemd driver's scope, made by systemd with the process in it: the
 * kernel must show the process there. systemd removes the scope's
 * directory itself, so none is recorded as made by tsrun.
 */
function adoptScope(kernel: HostKernel, pid: number, dir: string, scope: SystemdScope): ContainerCgroup {
  const shown = processCgroups(pid).get('');
  if (shown === undefined || join(cgroup2Mount(), shown) !== dir) {
    throw new Error(`systemd started the scope ${scope.unit}, but /proc/${pid}/cgroup shows the process in ${shown ?? 'no cgroup2 cgroup'}, not ${dir}`);
  }
  return open(kernel, { version: 2, dirs: { '': dir }, createdParents: [], systemd: scope });
}

function open(kernel: HostKernel, placement: CgroupPlacement): ContainerCgroup {
  const dir = placement.dirs[''];
  if (dir === undefined) throw new Error(`a cgroup v2 placement without a cgroup2 directory: ${JSON.stringify(placement)}`);
  return {
    placement,
    join(pid) {
      kernel.writeFile(join(dir, 'cgroup.procs'), String(pid), "the container's cgroup");
    },
    async update(resources, changed) {
      // Device rules stay as create attached them: they are a BPF program, not files.
      const { devices: _kept, ...limits } = resources;
      const plan = checkResources(kernel, limits);
      // Only new limits are checked: one kept from before may sit at the usage already.
      const checkBeforeUpdate = resources.memory?.checkBeforeUpdate;
      checkMemoryAboveUsage(kernel, dir, { ...changed.memory, ...(checkBeforeUpdate === undefined ? {} : { checkBeforeUpdate }) });
      applyResources(kernel, dir, plan.writes);
      // systemd writes a unit's limits again on daemon-reload: it must know the new ones.
      if (placement.systemd !== undefined) await setScopeLimits(placement.systemd, plan.writes);
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
      if (placement.systemd !== undefined) {
        const { unit, uid } = placement.systemd;
        try {
          await stopScope(placement.systemd);
        } catch (error) {
          warnings.push(`${(error as Error).message}; stop it with: systemctl${uid === 0 ? '' : ' --user'} stop ${unit}`);
        }
      }
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
