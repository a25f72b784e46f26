import { join } from 'node:path';
import type { HostKernel } from '../../../../../ffi/host-kernel.js';
import type { LinuxMemory } from '../../../../config/types.js';

/**
 * memory.checkBeforeUpdate: refuse a new limit at or below what the
 * container uses now. cgroup v1 refused such a limit itself; cgroup v2
 * takes it and reclaims, then OOM-kills (runtime-spec config-linux.md). As
 * in runc, the limit and the memory+swap total are each compared with
 * memory.current (crun adds swap usage to the total's side), and a usage
 * that cannot be read skips the check: it is a safety net, not a limit.
 */
export function checkMemoryAboveUsage(kernel: Pick<HostKernel, 'readFile'>, cgroupDir: string, memory: LinuxMemory | undefined): void {
  if (memory?.checkBeforeUpdate !== true) return;
  const limits = [
    ['swap', memory.swap ?? 0],
    ['limit', memory.limit ?? 0],
  ] as const;
  if (limits.every(([, value]) => value <= 0)) return;
  let usage: number;
  try {
    usage = Number(kernel.readFile(join(cgroupDir, 'memory.current')).trim());
  } catch {
    return;
  }
  if (!Number.isFinite(usage)) return;
  for (const [name, value] of limits) {
    if (value > 0 && value <= usage) {
      throw new Error(
        `linux.resources.memory.${name}: ${value} bytes is not above the container's current usage (${usage} bytes in memory.current), ` +
          'and memory.checkBeforeUpdate is set; give a larger value, or unset checkBeforeUpdate to let the kernel reclaim (and OOM-kill)',
      );
    }
  }
}
