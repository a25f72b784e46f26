import { hostKernel } from '../../ffi/host-kernel.js';
import { setFrozen } from '../linux/cgroups/freezer.js';
import { cgroupOf } from './container-cgroup.js';
import { withLock } from './lock.js';
import type { GlobalOptions } from './options.js';
import { StateStore } from './state-store.js';
import { liveStatus } from './status.js';

/**
 * `tsrun pause`: freeze every process of a created or running container
 * (runc allows both). The status becomes "paused" because status.ts reads
 * cgroup.freeze; nothing is stored.
 */
export async function pause(g: GlobalOptions, id: string): Promise<void> {
  const store = new StateStore(g.root);
  await withLock(store, id, async () => {
    const record = store.read(id);
    const status = liveStatus(store, record);
    if (status !== 'running' && status !== 'created') throw new Error('container not running');
    await setFrozen(hostKernel, cgroupOf(record, 'paused'), true);
  });
}

/** `tsrun resume`: thaw a paused container. */
export async function resume(g: GlobalOptions, id: string): Promise<void> {
  const store = new StateStore(g.root);
  await withLock(store, id, async () => {
    const record = store.read(id);
    if (liveStatus(store, record) !== 'paused') throw new Error('container not paused');
    await setFrozen(hostKernel, cgroupOf(record, 'resumed'), false);
  });
}
