import type { HostKernel } from '../../../ffi/host-kernel.js';
import type { POSIXRlimit } from '../../config/types.js';

/** RLIMIT_* numbers (asm-generic/resource.h, identical on x86_64 and aarch64). */
const RLIMITS: Record<string, number> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6, RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11, RLIMIT_MSGQUEUE: 12, RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
};

/** process.rlimits, set from outside with prlimit(2) on the container's process. */
export function applyRlimits(kernel: HostKernel, pid: number, rlimits: readonly POSIXRlimit[] | undefined): void {
  (rlimits ?? []).forEach((r, i) => {
    const resource = RLIMITS[r.type];
    if (resource === undefined) throw new Error(`process.rlimits[${i}].type: unknown rlimit ${r.type}`);
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
