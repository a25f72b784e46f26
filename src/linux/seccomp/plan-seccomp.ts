import { SockFprog } from '../../../ffi/chain-step.js';
import type { ChainWriter } from '../chain-writer.js';
import type { CompiledSeccomp } from './compile-profile.js';

export const SECCOMP_SET_MODE_FILTER = 1;

/**
 * The checked install, for a process without no_new_privs: the kernel then
 * demands CAP_SYS_ADMIN, so it happens before the capabilities are dropped,
 * and every later step of the chain runs under the filter (as in runc).
 */
export function planSeccompEarly(compiled: CompiledSeccomp, w: ChainWriter): void {
  w.sys('seccomp(SECCOMP_SET_MODE_FILTER) (linux.seccomp)', 'seccomp', [SECCOMP_SET_MODE_FILTER, compiled.flags, new SockFprog(compiled.filter)]);
}
