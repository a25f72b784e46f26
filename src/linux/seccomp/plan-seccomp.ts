import { SockFprog } from '../../../ffi/chain-step.js';
import type { ChainWriter } from '../chain-writer.js';
import type { CompiledSeccomp } from './compile-profile.js';

export const SECCOMP_SET_MODE_FILTER = 1;

/**
 * The checked install, for a process without no_new_privs: the kernel then
 * demands CAP_SYS_ADMIN, so it happens before the capabilities are dropped,
 * and every later step of the chain runs under the filter (as in runc).
 */
export function planSeccompEarly(compiled: CompiledSeccomp, w: ChainWriter): SeccompListener | undefined {
  w.sys('seccomp(SECCOMP_SET_MODE_FILTER) (linux.seccomp)', 'seccomp', [SECCOMP_SET_MODE_FILTER, compiled.flags, new SockFprog(compiled.filter)]);
  if (!compiled.notify) return undefined;
  // seccomp(2) returned the listener as the lowest free fd (close-on-exec):
  // the parent takes a copy at this checkpoint and sends it to listenerPath.
  const fd = w.fds.open();
  w.checkpoint('seccomp-listener');
  return { fd };
}

/** The listener fd a NOTIFY profile's install returned, by its number in the process. */
export interface SeccompListener {
  readonly fd: number;
}

/**
 * Where the filter goes in the chain: "early", before the credentials
 * (installing without no_new_privs needs CAP_SYS_ADMIN); "after-credentials"
 * for a listener under no_new_privs (it must be handed over at a checkpoint,
 * so it cannot wait for the very end); "late", the last step before execve.
 */
export function seccompPlacement(compiled: CompiledSeccomp | undefined, noNewPrivileges: boolean): 'early' | 'after-credentials' | 'late' | undefined {
  if (compiled === undefined) return undefined;
  if (!noNewPrivileges) return 'early';
  return compiled.notify ? 'after-credentials' : 'late';
}
