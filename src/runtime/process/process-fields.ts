import type { Process, Spec } from '../../config/types.js';
import { hostKernel, schedulingKernel, type HostKernel, type SchedulingKernel } from '../../linux/kernel.js';
import { resolveAppArmor, type AppArmorExec } from '../../linux/process/apparmor.js';
import { resolveSelinuxLabel, verifySelinuxLabel } from '../../linux/process/selinux.js';
import { applyAffinity, planAffinity } from '../../linux/process/cpu-affinity.js';
import { applyIoPriority, ioPriorityValue } from '../../linux/process/io-priority.js';
import { personalityValue, verifyPersonality } from '../../linux/process/personality.js';
import { applyScheduler, schedulerAttr } from '../../linux/process/scheduler.js';
import { logger } from '../log.js';

/**
 * The process fields the parent applies from outside, on the pid, at the
 * checkpoints of a container's init (`create`) or of an `exec` process,
 * and then checks: execCPUAffinity, scheduler and ioPriority. (The
 * persona and the LSM labels, which only the process can set on itself,
 * are chain steps; here they are resolved before the process exists, and
 * the persona and SELinux label read back before it execs.)
 */
export interface ProcessFields {
  /** apparmorProfile, resolved on this host, for the chain to ask for. */
  readonly appArmor: AppArmorExec | undefined;
  /** selinuxLabel, checked against the loaded policy, for the chain to ask for. */
  readonly selinuxLabel: string | undefined;
  /** At "spawned", before the process is moved into the container's cgroup. */
  beforeCgroup(pid: number): void;
  /** At "spawned", once it is in the cgroup and has its rlimits. */
  spawned(pid: number): void;
  /** At "ready": set up, credentials checked, about to execve. */
  ready(pid: number): void;
}

export interface ProcessFieldKernels {
  readonly scheduling: SchedulingKernel;
  readonly host: HostKernel;
  readonly warn: (message: string) => void;
}

const REAL: ProcessFieldKernels = { scheduling: schedulingKernel, host: hostKernel, warn: (m) => logger.warn(m) };

/**
 * Check every field now, before the process is cloned, and return what to do at
 * each checkpoint. config.md: execCPUAffinity "is not applicable to the
 * container's init process", so for the init it is only checked (it stays
 * in the config as the default of later `exec`s, as with runc).
 *
 * For an exec process, `initial` is its affinity before it joins the
 * container's cgroup and `final` the one after (config.md). `final` is set
 * at "ready", just before execve, not at "spawned" right after the cgroup
 * move: the process's own setup runs on the initial CPUs, and the user's
 * program never runs a single instruction anywhere else than on its final
 * CPUs (setting it after execve would leave that window open).
 */
export function processFields(spec: Spec, proc: Process, role: 'init' | 'exec', kernels: ProcessFieldKernels = REAL): ProcessFields {
  const affinity = planAffinity(proc.execCPUAffinity);
  if (proc.scheduler !== undefined) schedulerAttr(proc.scheduler);
  if (proc.ioPriority !== undefined) ioPriorityValue(proc.ioPriority);
  if (spec.linux?.personality !== undefined) personalityValue(spec.linux.personality);
  const appArmor = resolveAppArmor(kernels.host, proc.apparmorProfile, 'process.apparmorProfile');
  const selinuxLabel = resolveSelinuxLabel(kernels.host, proc.selinuxLabel, 'process.selinuxLabel');
  const setAffinity = (pid: number, cpus: readonly number[] | undefined, which: 'initial' | 'final') => {
    if (role !== 'exec' || cpus === undefined) return;
    for (const note of applyAffinity(kernels.scheduling, pid, cpus, `process.execCPUAffinity.${which}`)) kernels.warn(note);
  };
  return {
    appArmor,
    selinuxLabel,
    beforeCgroup(pid) {
      setAffinity(pid, affinity.initial, 'initial');
    },
    spawned(pid) {
      applyIoPriority(kernels.scheduling, pid, proc.ioPriority);
      applyScheduler(kernels.scheduling, pid, proc.scheduler);
    },
    ready(pid) {
      verifyPersonality(kernels.host, pid, spec.linux?.personality);
      verifySelinuxLabel(kernels.host, pid, selinuxLabel);
      setAffinity(pid, affinity.final, 'final');
    },
  };
}
