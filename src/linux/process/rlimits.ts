import type { HostKernel } from '../../../ffi/host-kernel.js';
import { RLIMITS } from '../../config/linux-names.js';
import type { POSIXRlimit } from '../../config/types.js';

/** process.rlimits, set from outside with prlimit(2) on the container's process. */
export function applyRlimits(kernel: HostKernel, pid: number, rlimits: readonly POSIXRlimit[] | undefined): void {
  (rlimits ?? []).forEach((r, i) => {
    // The spec's names index the kernel's numbers (asm-generic/resource.h, as on x86_64 and aarch64).
    const resource = (RLIMITS as readonly string[]).indexOf(r.type);
    if (resource < 0) throw new Error(`process.rlimits[${i}].type: unknown rlimit ${r.type}`);
    kernel.prlimit(pid, resource, rlim(r.soft), rlim(r.hard), `process.rlimits[${i}] ${r.type}`);
  });
}

const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;

/**
 * JSON numbers are doubles: RLIM_INFINITY (2^64-1) arrives as 2^64, which
 * BigInt would wrap to 0. Anything that large means "unlimited".
 */
function rlim(value: number): bigint {
  return value >= 2 ** 64 - 2048 ? RLIM_INFINITY : BigInt(value);
}
