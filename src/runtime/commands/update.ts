import { ConfigError } from '../../config/config-error.js';
import type { LinuxResources, Spec } from '../../config/types.js';
import { validateSpec } from '../../config/validate.js';
import { Container } from '../container/container.js';
import { logger } from '../log.js';
import type { GlobalOptions } from '../options.js';
import { mergeResources } from './merge-resources.js';

/**
 * `tsrun update`: change the resource limits of a container that is not
 * stopped. The update is merged into the resources of the container's
 * config snapshot, the result is checked as at create (schema, the cgroup
 * driver's conversions, controllers on this host) and written to the cgroup whole,
 * then stored, so the next update starts from it.
 */
export async function update(g: GlobalOptions, id: string, changes: LinuxResources): Promise<void> {
  await Container.locked(g.root, id, async (container) => {
    container.allow('update');
    const cgroup = container.requireCgroup('updated');
    if (changes.devices !== undefined) {
      throw new Error('linux.resources.devices: tsrun update cannot change device rules; create the container again with the new rules');
    }
    const config = container.config();
    checkShape(config, changes);
    const merged = mergeResources(config.linux?.resources ?? {}, changes);
    checkShape(config, merged);
    for (const note of await cgroup.update(merged, changes)) logger.warn(note);
    container.store.writeConfig(id, withResources(config, merged));
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
