import type { LinuxMemory } from '../../../../config/types.js';
import { cgroupWrite, limitValue, type Planned } from './cgroup-write.js';

const FIELD = 'linux.resources.memory';

/**
 * linux.resources.memory on cgroup v2: limit → memory.max, reservation →
 * memory.low, swap (memory+swap in the spec) → memory.swap.max.
 *
 * As in runc, 0 means "not set" for limit, reservation and swap (runc's
 * fields are plain integers, so it cannot tell 0 from absent, and writing 0
 * to memory.max would kill the container at once); -1 means "max". Written
 * in runc's order: swap, limit, reservation.
 *
 * checkBeforeUpdate is read by `tsrun update` (check-memory-usage.ts): a new
 * cgroup has no usage to check.
 */
export function planMemory(memory: LinuxMemory | undefined, p: Planned): void {
  if (memory === undefined) return;
  let sizesValid = true;
  for (const name of ['limit', 'reservation', 'swap'] as const) {
    const value = memory[name];
    if (value !== undefined && value < -1) {
      p.problems.push(`${FIELD}.${name}: ${value} is not a size; give bytes, or -1 for no limit`);
      sizesValid = false;
    }
  }
  if (sizesValid) {
    try {
      const swap = swapMax(memory.limit ?? 0, memory.swap ?? 0);
      if (swap !== undefined) {
        // Without swap accounting (CONFIG_MEMCG_SWAP off, swapaccount=0)
        // there is no memory.swap.max; runc then lets "no swap limit" and
        // "no swap" pass, and so do we (crun lets any value pass).
        const tolerate = swap === 'max' || swap === '0' ? ['ENOENT'] : [];
        p.writes.push(cgroupWrite('memory.swap.max', swap, `${FIELD}.swap`, { tolerate }));
      }
    } catch (error) {
      p.problems.push((error as Error).message);
    }
    if (memory.limit !== undefined && memory.limit !== 0) {
      p.writes.push(cgroupWrite('memory.max', limitValue(memory.limit), `${FIELD}.limit`));
    }
    if (memory.reservation !== undefined && memory.reservation !== 0) {
      p.writes.push(cgroupWrite('memory.low', limitValue(memory.reservation), `${FIELD}.reservation`));
    }
  }
  planV1Only(memory, p);
}

/**
 * memory.swap.max from the spec's swap, which is memory+swap (cgroup v1's
 * memsw): cgroup v2 limits swap on its own, so the limit is subtracted.
 * The same rules as runc's conversion (0 meaning unset for both):
 *  - memory unlimited and swap unset: swap unlimited too;
 *  - swap -1: unlimited; swap unset: nothing to write;
 *  - memory unlimited: the total bounds only swap, written as is;
 *  - otherwise swap - limit, which needs a limit no larger than the total
 *    (equal totals give "0": no swap at all).
 * Returns undefined when there is nothing to write.
 */
export function swapMax(limit: number, swap: number): string | undefined {
  if (limit === -1 && swap === 0) return 'max';
  if (swap === -1) return 'max';
  if (swap === 0) return undefined;
  if (limit === -1) return String(swap);
  if (limit === 0) {
    throw new Error(
      `${FIELD}.swap: ${swap} is memory+swap, and cgroup v2 limits swap alone (swap - limit): set ${FIELD}.limit too, or -1 for unlimited swap`,
    );
  }
  if (swap < limit) {
    throw new Error(`${FIELD}.swap: memory+swap (${swap}) is below ${FIELD}.limit (${limit}); it must be at least the limit (equal means no swap)`);
  }
  return String(swap - limit);
}

/**
 * Fields of cgroup v1's memory controller. The runtime-spec asks for an
 * error when a v1 setting cannot be converted (config-linux.md, "unified");
 * what v2 already does is accepted.
 */
function planV1Only(memory: LinuxMemory, p: Planned): void {
  for (const name of ['kernel', 'kernelTCP'] as const) {
    const value = memory[name];
    // -1 asks for no kernel memory limit, which is all cgroup v2 has.
    if (value !== undefined && value !== -1) {
      p.problems.push(`${FIELD}.${name}: cgroup v2 has no separate kernel memory limit (kernel memory counts in memory.max); remove the field`);
    }
  }
  if (memory.swappiness !== undefined) {
    p.problems.push(`${FIELD}.swappiness: cgroup v2 has no per-cgroup swappiness; remove the field (limit swap with ${FIELD}.swap instead)`);
  }
  if (memory.useHierarchy === false) {
    p.problems.push(`${FIELD}.useHierarchy: cgroup v2 accounting is always hierarchical; remove the field or set it to true`);
  }
  // runc ignores disableOOMKiller on cgroup v2 without a word; crun refuses
  // it. We follow runc, so that configs written for it still run, but say
  // so: the kernel's OOM killer stays on for the container.
  if (memory.disableOOMKiller === true) {
    p.ignored.push(`${FIELD}.disableOOMKiller: ignored: cgroup v2 cannot disable the OOM killer, which stays on for this container (as with runc)`);
  }
}
