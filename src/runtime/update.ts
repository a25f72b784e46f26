import { hostKernel } from '../../ffi/host-kernel.js';
import { ConfigError } from '../config/config-error.js';
import type { LinuxResources, Spec } from '../config/types.js';
import { validateSpec } from '../config/validate.js';
import { applyResources, checkResources } from '../linux/cgroups/cgroup2.js';
import { checkMemoryAboveUsage } from '../linux/cgroups/resources/check-memory-usage.js';
import { cgroupOf } from './container-cgroup.js';
import { withLock } from './lock.js';
import { logger } from './log.js';
import { mergeResources } from './merge-resources.js';
import type { GlobalOptions } from './options.js';
import { StateStore } from './state-store.js';
import { liveStatus } from './status.js';

/**
 * `tsrun update`: change the resource limits of a container that is not
 * stopped. The update is merged into the resources of the container's
 * config snapshot, the result is checked as at create (schema, cgroup v2
 * conversions, controllers on this host) and written to the cgroup whole,
 * then stored, so the next update starts from it.
 */
export async function update(g: GlobalOptions, id: string, changes: LinuxResources): Promise<void> {
  const store = new StateStore(g.root);
  await withLock(store, id, () => {
    const record = store.read(id);
    if (liveStatus(store, record) === 'stopped') throw new Error('container not running');
    const cgroup = cgroupOf(record, 'updated');
    if (changes.devices !== undefined) {
      throw new Error('linux.resources.devices: tsrun update cannot change device rules; create the container again with the new rules');
    }
    const config = store.readConfig(id);
    if (config === undefined) throw new Error(`container ${id} has no config snapshot in ${store.dir(id)}; it cannot be updated`);
    const current = config.linux?.resources ?? {};
    checkShape(config, changes);
    const merged = mergeResources(current, changes);
    checkShape(config, merged);
    // Device rules stay as create attached them: they are a BPF program, not files.
    const { devices: _kept, ...limits } = merged;
    const plan = checkResources(hostKernel, limits);
    for (const note of plan.ignored) logger.warn(note);
    // Only new limits are checked: one kept from before may sit at the usage already.
    const checkBeforeUpdate = merged.memory?.checkBeforeUpdate;
    checkMemoryAboveUsage(hostKernel, cgroup, { ...changes.memory, ...(checkBeforeUpdate === undefined ? {} : { checkBeforeUpdate }) });
    applyResources(hostKernel, cgroup, plan.writes);
    store.writeConfig(id, withResources(config, merged));
  });
}

function withResources(config: Spec, resources: LinuxResources): Spec {
  return { ...config, linux: { ...config.linux, resources } };
}

/**
 * The resources, in place of the config's, must pass the config's schema
 * and rules; problems are reported at their place in the update
 * ("--resources: /memory/limit: must be an integer").
 */
function checkShape(config: Spec, resources: LinuxResources): void {
  try {
    validateSpec(withResources(config, resources), { onWarning: () => {} });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const prefix = '/linux/resources';
    const problems = error.problems.map((p) => ({ ...p, location: p.location.startsWith(prefix) ? p.location.slice(prefix.length) || '/' : p.location }));
    throw new ConfigError('--resources', problems);
  }
}
