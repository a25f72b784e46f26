import type { LinuxResources, LinuxThrottleDevice, LinuxWeightDevice } from '../../config/types.js';

/**
 * The container's resources after `tsrun update`: what the update gives
 * replaces what the config had, field by field, as in runc. Per-device
 * entries (weights, throttles), huge page sizes, rdma devices and unified
 * keys are replaced one by one, so an update about one device keeps the
 * others. Two of runc's adjustments are kept:
 *  - a memory limit of -1 without a swap value also lifts the swap limit
 *    (an update that raises memory to "max" would otherwise be refused
 *    against a stale memory+swap total);
 *  - cpu.idle without shares drops the shares: an idle cgroup refuses a
 *    weight.
 * The whole result is applied again, which rewrites unchanged files with
 * the values they already have.
 */
export function mergeResources(current: LinuxResources, update: LinuxResources): LinuxResources {
  const merged: LinuxResources = { ...current };
  if (update.memory !== undefined) {
    merged.memory = { ...current.memory, ...update.memory };
    if (update.memory.limit === -1 && update.memory.swap === undefined) delete merged.memory.swap;
  }
  if (update.cpu !== undefined) {
    merged.cpu = { ...current.cpu, ...update.cpu };
    if (update.cpu.idle !== undefined && update.cpu.shares === undefined) delete merged.cpu.shares;
  }
  if (update.pids !== undefined) merged.pids = update.pids;
  if (update.blockIO !== undefined) {
    const before = current.blockIO ?? {};
    const after = update.blockIO;
    merged.blockIO = { ...before, ...after };
    if (after.weightDevice !== undefined) {
      // An updated device keeps the weight the update does not give.
      merged.blockIO.weightDevice = upsert(before.weightDevice ?? [], after.weightDevice, sameDevice, (old, change) => ({ ...old, ...change }));
    }
    for (const list of ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'] as const) {
      const changes = after[list];
      if (changes !== undefined) merged.blockIO[list] = upsert(before[list] ?? [], changes, sameDevice);
    }
  }
  if (update.hugepageLimits !== undefined) {
    merged.hugepageLimits = upsert(current.hugepageLimits ?? [], update.hugepageLimits, (a, b) => a.pageSize === b.pageSize);
  }
  if (update.rdma !== undefined) merged.rdma = { ...current.rdma, ...update.rdma };
  if (update.unified !== undefined) merged.unified = { ...current.unified, ...update.unified };
  if (update.network !== undefined) merged.network = update.network;
  return merged;
}

function sameDevice(a: LinuxThrottleDevice | LinuxWeightDevice, b: LinuxThrottleDevice | LinuxWeightDevice): boolean {
  return a.major === b.major && a.minor === b.minor;
}

/** Replace the entries `same` matches, append the others; `combine` makes the replacement. */
function upsert<T>(current: readonly T[], changes: readonly T[], same: (a: T, b: T) => boolean, combine = (_old: T, change: T) => change): T[] {
  const merged = [...current];
  for (const change of changes) {
    const index = merged.findIndex((entry) => same(entry, change));
    const old = merged[index];
    if (old === undefined) merged.push(change);
    else merged[index] = combine(old, change);
  }
  return merged;
}
