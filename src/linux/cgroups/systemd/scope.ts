import { basename, dirname } from 'node:path';
import type { CgroupWrite } from '../v2/resources/cgroup-write.js';
import { SystemdBus } from './bus.js';
import type { SystemdInstance } from './manager-instance.js';
import { limitProperties, scopeProperties } from './unit-properties.js';

/**
 * The systemd cgroup driver (--systemd-cgroup on a host systemd runs): the
 * container's cgroup is a transient scope unit, made by systemd through its
 * D-Bus API as runc does (PID 1 for root, the caller's user instance for
 * rootless callers), so that systemd knows it, accounts for it and does not
 * take it for a stray cgroup. tsrun still writes the limits and device
 * rules into it itself (the scope is delegated), as for any cgroup.
 */

/** The unit and slice of a cgroup directory systemd's naming gave ("/sys/fs/cgroup/system.slice/tsrun-web.scope"). */
export function scopeOf(dir: string): { unit: string; slice: string } {
  const unit = basename(dir);
  if (!unit.endsWith('.scope')) {
    throw new Error(`linux.cgroupsPath: with --systemd-cgroup the container's unit must be a scope ("slice:prefix:name"), not ${unit}`);
  }
  const parent = basename(dirname(dir));
  return { unit, slice: parent.endsWith('.slice') ? parent : '-.slice' };
}

/** A scope systemd made, as state.json keeps it: the unit, and the instance that runs it. */
export interface SystemdScope {
  readonly unit: string;
  readonly socket: string;
  readonly uid: number;
}

/** One connection to the scope's systemd for `use`, closed after. */
async function withManager<T>(instance: Pick<SystemdInstance, 'socket' | 'uid'>, use: (bus: SystemdBus) => Promise<T>): Promise<T> {
  const bus = await SystemdBus.connect(instance);
  try {
    return await use(bus);
  } finally {
    bus.close();
  }
}

/** Ask systemd for `unit` in `slice` with `pid` in it, and wait until it runs. */
export async function startScope(instance: SystemdInstance, target: { unit: string; slice: string }, id: string, pid: number, writes: readonly CgroupWrite[]): Promise<void> {
  await withManager(instance, (bus) => bus.startTransientUnit(target.unit, scopeProperties({ id, pid, slice: target.slice, writes })));
}

/** Tell systemd the scope's new limits (update), for this boot only, as runc does. */
export async function setScopeLimits(scope: SystemdScope, writes: readonly CgroupWrite[]): Promise<void> {
  const properties = limitProperties(writes);
  if (properties.length === 0) return;
  await withManager(scope, (bus) => bus.setUnitProperties(scope.unit, properties));
}

/** Stop the scope (once its processes are gone, systemd has usually let it go already). */
export async function stopScope(scope: SystemdScope): Promise<void> {
  await withManager(scope, (bus) => bus.stopUnit(scope.unit));
}
