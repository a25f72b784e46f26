import { join } from 'node:path';
import type { HostKernel } from '../../../../../ffi/host-kernel.js';
import type { LinuxMemory } from '../../../../config/types.js';

/**
 * memory.checkBeforeUpdate on cgroup v1: refuse a new limit at or below
 * what the container uses now, before any write. The v1 kernel refuses
 * such a limit itself (EBUSY) only after reclaiming what it can, which may
 * already have pushed the container's memory out to swap; the check keeps
 * the update from touching the container at all. The limit is compared
 * with memory.usage_in_bytes, memory+swap with memory.memsw.usage_in_bytes
 * (or the memory usage, without swap accounting). A usage that cannot be
 * read skips the check: it is a safety net, not a limit.
 */
export function checkMemoryAboveUsage(kernel: Pick<HostKernel, 'readFile'>, memoryDir: string | undefined, memory: LinuxMemory | undefined): void {
  if (memory?.checkBeforeUpdate !== true || memoryDir === undefined) return;
  const read = (file: string): number | undefined => {
    try {
      const n = Number(kernel.readFile(join(memoryDir, file)).trim());
      return Number.isFinite(n) ? n : undefined;
    } catch {
      return undefined;
    }
  };
  const checks = [
    ['swap', memory.swap ?? 0, 'memory.memsw.usage_in_bytes'],
    ['limit', memory.limit ?? 0, 'memory.usage_in_bytes'],
  ] as const;
  for (const [name, value, counter] of checks) {
    if (value <= 0) continue;
    const [file, usage] = read(counter) === undefined ? ['memory.usage_in_bytes', read('memory.usage_in_bytes')] : [counter, read(counter)];
    if (usage === undefined || value > usage) continue;
    throw new Error(
      `linux.resources.memory.${name}: ${value} bytes is not above the container's current usage (${usage} bytes in ${file}), ` +
        'and memory.checkBeforeUpdate is set; give a larger value, or unset checkBeforeUpdate to let the kernel try to reclaim',
    );
  }
}
