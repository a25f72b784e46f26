import type { HostKernel } from '../../../../../ffi/host-kernel.js';
import { writeResources } from '../../v2/resources/apply-resources.js';
import { enableControllers } from '../../v2/resources/controllers.js';
import { UNIFIED } from '../paths.js';
import type { PlacedWrite } from './plan.js';
import { writeV1 } from './write.js';

/**
 * Make the planned writes, in order, each in its hierarchy's directory.
 * Writes bound for a hybrid host's cgroup2 tree are cgroup v2 files: their
 * controllers are enabled from that tree's root down first, as the v2
 * driver does, and they are written (and their errors told) as v2's.
 */
export function applyWrites(
  kernel: HostKernel,
  dirs: Readonly<Record<string, string>>,
  unifiedRoot: string | undefined,
  writes: readonly PlacedWrite[],
): void {
  const unified = writes.filter((w) => w.hierarchy === UNIFIED).map((w) => w.write);
  let enabled = false;
  for (const { hierarchy, write } of writes) {
    const dir = dirs[hierarchy];
    if (dir === undefined) throw new Error(`${write.field}: the container has no cgroup in the ${hierarchy === UNIFIED ? 'cgroup2' : hierarchy} hierarchy`);
    if (hierarchy !== UNIFIED) {
      writeV1(kernel, dir, write);
      continue;
    }
    if (unifiedRoot === undefined) throw new Error(`${write.field}: this host has no cgroup2 tree any more`);
    if (!enabled) {
      enableControllers(kernel, unifiedRoot, dir, unified);
      enabled = true;
    }
    writeResources(kernel, dir, [write]);
  }
}
