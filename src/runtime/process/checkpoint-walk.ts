import type { Process } from '../../config/types.js';
import type { Checkpoint } from '../../linux/checkpoints.js';
import { hostKernel, type Puppet } from '../../linux/kernel.js';
import type { PlannedChain } from '../../linux/planned-chain.js';
import { applyRlimits } from '../../linux/process/rlimits.js';
import { verifyCredentials } from '../../linux/process/verify-credentials.js';
import { crashPoint } from '../crash-point.js';
import type { ProcessFields } from './process-fields.js';

/**
 * Meet the process at each checkpoint its plan has, in order: wait until it
 * is there (every step before it reported success), do that checkpoint's
 * part from outside, let it go on. Every checkpoint the plan can have has a
 * handler, so the plan alone decides which run. A handler gets how many
 * times its checkpoint came before (a repeatable one, such as "copy-up",
 * finds its planned work by that number).
 */
export function walkCheckpoints<C extends Checkpoint>(puppet: Puppet, checkpoints: readonly C[], handlers: Readonly<Record<C, (occurrence: number) => void>>): void {
  const seen = new Map<C, number>();
  for (const name of checkpoints) {
    puppet.reachCheckpoint(name);
    const occurrence = seen.get(name) ?? 0;
    seen.set(name, occurrence + 1);
    crashPoint(`checkpoint:${name}`);
    handlers[name](occurrence);
    puppet.release();
  }
}

/** What an init and an exec process alike get from outside once they are in the container's cgroup. */
export function setLimits(pid: number, proc: Process): void {
  applyRlimits(hostKernel, pid, proc.rlimits);
  if (proc.oomScoreAdj !== undefined) {
    hostKernel.writeFile(`/proc/${pid}/oom_score_adj`, String(proc.oomScoreAdj), 'process.oomScoreAdj');
  }
}

/** At "ready", for both: the kernel shows the planned credentials, and the last fields are set and read back. */
export function checkReady(pid: number, plan: PlannedChain, fields: ProcessFields): void {
  verifyCredentials(pid, plan.credentials);
  fields.ready(pid);
}
