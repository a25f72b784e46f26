import type { ChainChannel } from '../../ffi/call-chain.js';
import type { ChainStep } from '../../ffi/chain-step.js';
import type { Checkpoint } from './checkpoints.js';
import type { AppArmorExec } from './process/apparmor.js';
import type { StartProgram } from './process/find-executable.js';
import type { ExpectedCredentials } from './process/plan-credentials.js';
import type { PlannedPty } from './process/plan-terminal.js';
import type { CompiledSeccomp } from './seccomp/compile-profile.js';
import type { SeccompListener } from './seccomp/plan-seccomp.js';

/** What every chain's planner needs that config.json does not say: an init's and an exec's alike. */
export interface ChainInput {
  readonly preservedFds: number;
  readonly channel: ChainChannel;
  readonly lastCap: number;
  /** Signals whose disposition Node changed, to reset before execve. */
  readonly signalsToReset: readonly number[];
  /** The executable, resolved inside the container (absolute), or why there is none. */
  readonly executable: StartProgram;
  /** linux.seccomp, compiled by the parent; undefined without a profile. */
  readonly seccomp?: CompiledSeccomp;
  /** process.apparmorProfile, checked by the parent; undefined without one. */
  readonly appArmor?: AppArmorExec;
  /** process.selinuxLabel, checked against the loaded policy; undefined without one. */
  readonly selinuxLabel?: string;
}

/** A planned chain, and what the parent needs to meet it at its checkpoints. */
export interface PlannedChain<C extends Checkpoint = Checkpoint> {
  readonly steps: readonly ChainStep[];
  /** The checkpoints of `steps`, in order: the conductor meets each. */
  readonly checkpoints: readonly C[];
  readonly credentials: ExpectedCredentials;
  /** With process.terminal: the pty; the parent takes its master at a checkpoint. */
  readonly pty?: PlannedPty;
  /** With an SCMP_ACT_NOTIFY profile: the listener fd, taken by the parent at checkpoint "seccomp-listener". */
  readonly seccompListener?: SeccompListener;
}
