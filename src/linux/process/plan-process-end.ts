import type { Process } from '../../config/types.js';
import type { ChainWriter } from '../chain-writer.js';
import type { FdTable } from '../fd-table.js';
import type { CompiledSeccomp } from '../seccomp/compile-profile.js';
import { planSeccompEarly, seccompPlacement, type SeccompListener } from '../seccomp/plan-seccomp.js';
import type { StartProgram } from './find-executable.js';
import { planCredentials, type ExpectedCredentials } from './plan-credentials.js';
import { planExec, type StartGate } from './plan-exec.js';

/** What the end of a chain needs: the process and how it may execve. */
export interface ProcessEnd {
  readonly proc: Process;
  readonly seccomp?: CompiledSeccomp;
  readonly lastCap: number;
  readonly setgroupsAllowed: boolean;
  /** The executable, resolved inside the container (absolute), or why there is none. */
  readonly executable: StartProgram;
  readonly preservedFds: number;
  readonly signalsToReset: readonly number[];
  /** An init waits for `tsrun start` here; an exec'd process does not. */
  readonly startGate?: StartGate;
}

export interface PlannedEnd {
  readonly credentials: ExpectedCredentials;
  readonly seccompListener?: SeccompListener;
}

/**
 * The tail every chain shares, init's and exec's alike: the seccomp filter
 * where its placement says (see seccompPlacement), the credentials, then
 * the steps up to execve (planExec).
 */
export function planProcessEnd(end: ProcessEnd, w: ChainWriter, fds: FdTable): PlannedEnd {
  const { proc, seccomp } = end;
  const placement = seccompPlacement(seccomp, proc.noNewPrivileges === true);
  // An init gives back its copy of Node before it waits for `start`, but
  // before a filter that may forbid munmap(2) when one comes first.
  const filterBeforeWait = placement === 'early' || placement === 'after-credentials';
  const release = end.startGate !== undefined && filterBeforeWait;
  if (release && placement === 'early') w.releaseMemory();
  let seccompListener = placement === 'early' && seccomp !== undefined ? planSeccompEarly(seccomp, w) : undefined;
  const credentials = planCredentials(proc, end.lastCap, end.setgroupsAllowed, w);
  if (release && placement === 'after-credentials') w.releaseMemory();
  if (placement === 'after-credentials' && seccomp !== undefined) seccompListener = planSeccompEarly(seccomp, w);
  planExec(
    {
      program: end.executable,
      args: proc.args ?? [],
      env: proc.env ?? [],
      preservedFds: end.preservedFds,
      signalsToReset: end.signalsToReset,
      ...(end.startGate === undefined ? {} : { startGate: { ...end.startGate, releaseMemory: !filterBeforeWait } }),
      ...(placement === 'late' && seccomp !== undefined ? { lateSeccomp: seccomp } : {}),
    },
    w,
    fds,
  );
  return {
    credentials: { ...credentials, seccompBeforeReady: placement === 'early' || placement === 'after-credentials' },
    ...(seccompListener === undefined ? {} : { seccompListener }),
  };
}
