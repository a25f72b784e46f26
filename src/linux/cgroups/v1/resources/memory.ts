import type { LinuxMemory } from '../../../../config/types.js';
import { cgroupWrite, type Planned } from '../../v2/resources/cgroup-write.js';

const FIELD = 'linux.resources.memory';

/**
 * linux.resources.memory on cgroup v1's memory controller. The spec's
 * fields are v1's own files: limit → memory.limit_in_bytes, swap
 * (memory+swap) → memory.memsw.limit_in_bytes, reservation →
 * memory.soft_limit_in_bytes. -1 is written as -1 (v1's "unlimited"); 0
 * means "not set", as in runc, whose fields cannot tell 0 from absent.
 *
 * The kernel keeps limit <= memory+swap at every write, so lowering both
 * needs the limit first and raising both needs memory+swap first. runc
 * reads the current limit to choose; the plan here is made before the
 * cgroup exists, so memory+swap is tried before the limit (EINVAL then only
 * means "too early") and written again after it: the result is the same
 * whichever way the values move.
 */
export function planMemory(memory: LinuxMemory | undefined, p: Planned, kernelMemoryLimits: boolean): void {
  if (memory === undefined) return;
  const sizes = { limit: memory.limit ?? 0, swap: memory.swap ?? 0, reservation: memory.reservation ?? 0 };
  let valid = true;
  for (const [name, value] of Object.entries(sizes)) {
    if (value < -1) {
      p.problems.push(`${FIELD}.${name}: ${value} is not a size; give bytes, or -1 for no limit`);
      valid = false;
    }
  }
  if (valid && sizes.limit > 0 && sizes.swap > 0 && sizes.swap < sizes.limit) {
    p.problems.push(`${FIELD}.swap: memory+swap (${sizes.swap}) is below ${FIELD}.limit (${sizes.limit}); it must be at least the limit (equal means no swap)`);
    valid = false;
  }
  if (valid) planLimits(sizes, p);
  planKernel(memory, p, kernelMemoryLimits);
  planBehaviour(memory, p);
}

function planLimits(sizes: { limit: number; swap: number; reservation: number }, p: Planned): void {
  const { limit, swap, reservation } = sizes;
  const limitWrite = limit === 0 ? undefined : cgroupWrite('memory.limit_in_bytes', String(limit), `${FIELD}.limit`, limit === -1 ? { kernelDefault: true } : {});
  if (swap !== 0) {
    const swapWrite = (tolerate: string[]) =>
      cgroupWrite('memory.memsw.limit_in_bytes', String(swap), `${FIELD}.swap`, { tolerate, ...(swap === -1 ? { kernelDefault: true } : {}) });
    if (limitWrite === undefined) {
      p.writes.push(swapWrite([]));
    } else {
      p.writes.push(swapWrite(['EINVAL']), limitWrite, swapWrite([]));
    }
  } else if (limitWrite !== undefined) {
    // As runc: an unlimited memory with swap unset lifts memory+swap too
    // (else an old memory+swap limit would still bound it, and the kernel
    // would refuse a limit above it), where the kernel accounts swap at all.
    if (limit === -1) {
      p.writes.push(cgroupWrite('memory.memsw.limit_in_bytes', '-1', `${FIELD}.limit`, { tolerate: ['ENOENT'], kernelDefault: true }));
    }
    p.writes.push(limitWrite);
  }
  if (reservation !== 0) {
    p.writes.push(cgroupWrite('memory.soft_limit_in_bytes', String(reservation), `${FIELD}.reservation`, reservation === -1 ? { kernelDefault: true } : {}));
  }
}

/**
 * kernel → memory.kmem.limit_in_bytes where the kernel applies it (the
 * runtime-spec marks the field NOT RECOMMENDED, but a config that asks gets
 * it, as crun gives it; runc 1.1 drops it everywhere). Linux 6.1 made the
 * file take any write and change nothing: there the field is left aside
 * with a warning instead of being written for show; kernel memory counts in
 * memory.limit_in_bytes already. kernelTCP still works on every v1 kernel
 * (memory.kmem.tcp.limit_in_bytes).
 */
function planKernel(memory: LinuxMemory, p: Planned, kernelMemoryLimits: boolean): void {
  const kernel = memory.kernel ?? 0;
  if (kernel < -1) {
    p.problems.push(`${FIELD}.kernel: ${kernel} is not a size; give bytes, or -1 for no limit`);
  } else if (kernel !== 0 && kernelMemoryLimits) {
    p.writes.push(cgroupWrite('memory.kmem.limit_in_bytes', String(kernel), `${FIELD}.kernel`, kernel === -1 ? { kernelDefault: true } : {}));
  } else if (kernel > 0) {
    p.ignored.push(
      `${FIELD}.kernel: ignored: this kernel takes memory.kmem.limit_in_bytes without applying it (Linux 6.1 and later), and kernel memory counts in ${FIELD}.limit already`,
    );
  }
  const tcp = memory.kernelTCP ?? 0;
  if (tcp < -1) {
    p.problems.push(`${FIELD}.kernelTCP: ${tcp} is not a size; give bytes, or -1 for no limit`);
  } else if (tcp !== 0) {
    p.writes.push(cgroupWrite('memory.kmem.tcp.limit_in_bytes', String(tcp), `${FIELD}.kernelTCP`, tcp === -1 ? { kernelDefault: true } : {}));
  }
}

function planBehaviour(memory: LinuxMemory, p: Planned): void {
  const swappiness = memory.swappiness;
  // Docker used to send -1 for "the host's default"; runc takes it so.
  if (swappiness !== undefined && swappiness !== -1) {
    if (Number.isInteger(swappiness) && swappiness >= 0 && swappiness <= 100) {
      p.writes.push(cgroupWrite('memory.swappiness', String(swappiness), `${FIELD}.swappiness`));
    } else {
      p.problems.push(`${FIELD}.swappiness: ${swappiness} is outside 0..100`);
    }
  }
  // A new cgroup starts with its parent's OOM setting, which is "on" unless
  // someone changed it: "false" asks for nothing, as with runc.
  if (memory.disableOOMKiller === true) {
    p.writes.push(cgroupWrite('memory.oom_control', '1', `${FIELD}.disableOOMKiller`));
  }
  // Accounting is always hierarchical since Linux 5.11 (writing 1 is then a
  // no-op, 0 is refused): "true" is what every new cgroup has there.
  if (memory.useHierarchy !== undefined) {
    p.writes.push(
      cgroupWrite('memory.use_hierarchy', memory.useHierarchy ? '1' : '0', `${FIELD}.useHierarchy`, memory.useHierarchy ? { kernelDefault: true } : {}),
    );
  }
}
