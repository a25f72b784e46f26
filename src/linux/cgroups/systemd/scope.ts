import { basename, dirname } from 'node:path';
import type { CgroupWrite } from '../v2/resources/cgroup-write.js';
import { SystemdBus } from './bus.js';
import { limitProperties, scopeProperties } from './unit-properties.js';

/**
 * The systemd cgroup driver (--systemd-cgroup on a host systemd runs): the
 * container's cgroup is a transient scope unit, made by systemd through its
 * D-Bus API as runc does, so that systemd knows it, accounts for it and does
 * not take it for a stray cgroup. tsrun still writes the limits and device
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

/** Ask systemd for the scope with `pid` in it, and wait until it runs. */
export async function startScope(id: string, pid: number, dir: string, writes: readonly CgroupWrite[]): Promise<void> {
  const { unit, slice } = scopeOf(dir);
  const bus = await SystemdBus.connect();
  try {
    await bus.startTransientUnit(unit, scopeProperties({ id, pid, slice, writes }));
  } finally {
    bus.close();
  }
}

/** Tell systemd the scope's new limits (update), for this boot only, as runc does. */
export async function setScopeLimits(unit: string, writes: readonly CgroupWrite[]): Promise<void> {
  const properties = limitProperties(writes);
  if (properties.length === 0) return;
  const bus = await SystemdBus.connect();
  try {
    await bus.setUnitProperties(unit, properties);
  } finally {
    bus.close();
  }
}

/** Stop the scope (once its processes are gone, systemd has usually let it go already). */
export async function stopScope(unit: string): Promise<void> {
  const bus = await SystemdBus.connect();
  try {
    await bus.stopUnit(unit);
  } finally {
    bus.close();
  }
}
