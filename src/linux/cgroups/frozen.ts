import type { HostKernel } from '../../../ffi/host-kernel.js';
import { hostFiles } from '../../../ffi/host-files.js';
import type { CgroupPlacement } from './manager.js';
import { isPaused } from './v1/freezer.js';
import { hierarchyOfController } from './v1/paths.js';
import { freezeRequested } from './v2/freezer.js';

/**
 * Whether a container's cgroups are frozen (it is paused), for either
 * driver. Apart from them, because it is all `state` and `list` need of
 * cgroups: engines call `state` most, and opening a ContainerCgroup loads
 * both drivers with every resource planner (bench/: that and libc were 140
 * KB of the 147 KB a `state` evaluated).
 */
export function isPlacementFrozen(placement: CgroupPlacement, kernel: Pick<HostKernel, 'readFile'> = hostFiles): boolean {
  if (placement.version === 2) {
    const dir = placement.dirs[''];
    return dir !== undefined && freezeRequested(kernel, dir);
  }
  const hierarchy = hierarchyOfController(placement.dirs).get('freezer');
  const dir = hierarchy === undefined ? undefined : placement.dirs[hierarchy];
  return dir !== undefined && isPaused(kernel, dir);
}
