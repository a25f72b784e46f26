import type { SchedAttr, SchedulingKernel } from '../../../ffi/scheduling.js';
import { errnoName, SyscallError } from '../../../ffi/syscall-error.js';
import type { Scheduler, SchedulerFlag, SchedulerPolicy } from '../../config/types.js';

/** Policies (linux/sched.h). SCHED_ISO is reserved there and implemented by no mainline kernel. */
const POLICIES: Record<SchedulerPolicy, number> = {
  SCHED_OTHER: 0,
  SCHED_FIFO: 1,
  SCHED_RR: 2,
  SCHED_BATCH: 3,
  SCHED_ISO: 4,
  SCHED_IDLE: 5,
  SCHED_DEADLINE: 6,
};

/** sched_attr.sched_flags bits (linux/sched.h). */
const FLAGS: Record<SchedulerFlag, bigint> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01n,
  SCHED_FLAG_RECLAIM: 0x02n,
  SCHED_FLAG_DL_OVERRUN: 0x04n,
  SCHED_FLAG_KEEP_POLICY: 0x08n,
  SCHED_FLAG_KEEP_PARAMS: 0x10n,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20n,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40n,
};

/** The smallest runtime the kernel accepts for SCHED_DEADLINE (1 << DL_SCALE ns). */
const DL_MIN_RUNTIME = 1024n;

const isRealTime = (policy: number) => policy === POLICIES.SCHED_FIFO || policy === POLICIES.SCHED_RR;
const isFair = (policy: number) => policy === POLICIES.SCHED_OTHER || policy === POLICIES.SCHED_BATCH;

/**
 * process.scheduler as a struct sched_attr, with what the kernel would
 * refuse with a bare EINVAL (or silently clamp, as it does nice values)
 * refused here, naming the field, before anything exists. Unset numbers
 * are 0, as config.md requires.
 */
export function schedulerAttr(s: Scheduler): SchedAttr {
  const policy = POLICIES[s.policy];
  if (policy === undefined) throw new Error(`process.scheduler.policy: "${String(s.policy)}" is not a scheduling policy the runtime-spec names`);
  let flags = 0n;
  for (const name of s.flags ?? []) {
    const bit = FLAGS[name];
    if (bit === undefined) throw new Error(`process.scheduler.flags: "${String(name)}" is not a SCHED_FLAG_* the runtime-spec names`);
    flags |= bit;
  }
  const nice = s.nice ?? 0;
  const priority = s.priority ?? 0;
  const runtime = u64(s.runtime, 'runtime');
  const deadline = u64(s.deadline, 'deadline');
  const period = u64(s.period, 'period');
  const keepPolicy = (flags & FLAGS.SCHED_FLAG_KEEP_POLICY) !== 0n;
  const keepParams = (flags & FLAGS.SCHED_FLAG_KEEP_PARAMS) !== 0n;
  if (!keepParams) {
    if (!Number.isInteger(nice) || nice < -20 || nice > 19) {
      throw new Error(`process.scheduler.nice: ${nice} is outside -20 (highest priority) to 19 (lowest)`);
    }
    // With SCHED_FLAG_KEEP_POLICY the policy stays what it is, so only the range can be checked.
    if (!Number.isInteger(priority) || priority < 0 || priority > 99) {
      throw new Error(`process.scheduler.priority: ${priority} is outside 0 to 99`);
    }
    if (!keepPolicy && isRealTime(policy) && priority === 0) {
      throw new Error(`process.scheduler.priority: ${s.policy} needs a static priority from 1 (lowest) to 99 (highest)`);
    }
    if (!keepPolicy && !isRealTime(policy) && priority !== 0) {
      throw new Error(`process.scheduler.priority: ${s.policy} has no static priority, it must be 0 (or unset); use nice instead`);
    }
    if (!keepPolicy && policy === POLICIES.SCHED_DEADLINE) checkDeadline(runtime, deadline, period);
  }
  return { policy, flags, nice, priority, runtime, deadline, period };
}

/** sched(7): 1024 ns <= runtime <= deadline <= period (a period of 0 means "the deadline"). */
function checkDeadline(runtime: bigint, deadline: bigint, period: bigint): void {
  if (runtime < DL_MIN_RUNTIME) {
    throw new Error(`process.scheduler.runtime: SCHED_DEADLINE needs a runtime of at least ${DL_MIN_RUNTIME} ns, not ${runtime}`);
  }
  if (deadline < runtime) {
    throw new Error(`process.scheduler.deadline: SCHED_DEADLINE needs runtime <= deadline, and ${runtime} > ${deadline} (ns)`);
  }
  if (period !== 0n && period < deadline) {
    throw new Error(`process.scheduler.period: SCHED_DEADLINE needs deadline <= period (or period 0), and ${deadline} > ${period} (ns)`);
  }
}

function u64(value: number | undefined, name: string): bigint {
  if (value === undefined) return 0n;
  if (!Number.isInteger(value) || value < 0) throw new Error(`process.scheduler.${name}: ${value} is not a whole number of nanoseconds`);
  return BigInt(value);
}

/**
 * process.scheduler, set from outside with sched_setattr(2) on the pid,
 * once the process is in its cgroup and has its rlimits (an unprivileged
 * tsrun may rely on the process's RLIMIT_RTPRIO or RLIMIT_NICE), before it
 * execs; execve keeps the policy. Read back with sched_getattr(2).
 */
export function applyScheduler(kernel: SchedulingKernel, pid: number, s: Scheduler | undefined): void {
  if (s === undefined) return;
  const want = schedulerAttr(s);
  const errno = kernel.setScheduler(pid, want);
  if (errno !== 0) {
    throw new SyscallError('sched_setattr', errno, `pid ${pid} (process.scheduler ${s.policy})`, hint(errnoName(errno), s, want));
  }
  const problems = differences(want, kernel.getScheduler(pid));
  if (problems.length > 0) {
    throw new Error(`process.scheduler: the container process (pid ${pid}) does not have the scheduling config.json asks for: ${problems.join('; ')}`);
  }
}

/** What sched_getattr shows that differs from what was set, field by field. */
function differences(want: SchedAttr, got: SchedAttr): string[] {
  const problems: string[] = [];
  const keepPolicy = (want.flags & FLAGS.SCHED_FLAG_KEEP_POLICY) !== 0n;
  const keepParams = (want.flags & FLAGS.SCHED_FLAG_KEEP_PARAMS) !== 0n;
  const policy = keepPolicy ? got.policy : want.policy;
  if (got.policy !== policy) problems.push(`policy is ${policyName(got.policy)}, expected ${policyName(want.policy)}`);
  const resetOnFork = (f: bigint) => (f & FLAGS.SCHED_FLAG_RESET_ON_FORK) !== 0n;
  if (resetOnFork(got.flags) !== resetOnFork(want.flags)) {
    problems.push(`SCHED_FLAG_RESET_ON_FORK is ${resetOnFork(got.flags) ? 'set' : 'clear'}, expected ${resetOnFork(want.flags) ? 'set' : 'clear'}`);
  }
  if (keepParams) return problems;
  // The kernel keeps and reports only the parameters of the policy in force.
  if (isRealTime(policy) && got.priority !== want.priority) problems.push(`priority is ${got.priority}, expected ${want.priority}`);
  if (isFair(policy) && got.nice !== want.nice) problems.push(`nice is ${got.nice}, expected ${want.nice}`);
  if (policy === POLICIES.SCHED_DEADLINE) {
    const period = want.period === 0n ? want.deadline : want.period;
    if (got.runtime !== want.runtime) problems.push(`runtime is ${got.runtime}, expected ${want.runtime}`);
    if (got.deadline !== want.deadline) problems.push(`deadline is ${got.deadline}, expected ${want.deadline}`);
    if (got.period !== period) problems.push(`period is ${got.period}, expected ${period}`);
  }
  return problems;
}

function policyName(policy: number): string {
  return Object.entries(POLICIES).find(([, n]) => n === policy)?.[0] ?? `policy ${policy}`;
}

/** What the kernel's refusal means for this config, and what to do. */
function hint(errno: string, s: Scheduler, attr: SchedAttr): string | undefined {
  const noNice = 'CAP_SYS_NICE, which tsrun lacks here (an unprivileged tsrun has none)';
  if (errno === 'EPERM') {
    if (isRealTime(attr.policy) && process.geteuid?.() === 0) {
      // Root has CAP_SYS_NICE: what is missing is run time in the cpu cgroup (CONFIG_RT_GROUP_SCHED).
      return `${s.policy} needs real-time run time in the container's cpu cgroup, and a new cgroup v1 cpu cgroup has none (cpu.rt_runtime_us 0); give it some with linux.resources.cpu.realtimeRuntime (and realtimePeriod)`;
    }
    if (isRealTime(attr.policy)) return `${s.policy} needs ${noNice}, or an RLIMIT_RTPRIO of at least ${attr.priority} in process.rlimits`;
    if (attr.policy === POLICIES.SCHED_DEADLINE) {
      return `SCHED_DEADLINE needs ${noNice}, and a CPU affinity spanning every CPU of its scheduling domain (no process.execCPUAffinity.initial)`;
    }
    if (attr.nice < 0) return `a negative nice value needs ${noNice}, or an RLIMIT_NICE of at least ${20 - attr.nice} in process.rlimits`;
    return `this change of scheduling needs ${noNice}`;
  }
  if (errno === 'EBUSY') return 'the CPUs have not that much SCHED_DEADLINE bandwidth free (runtime/period, see /proc/sys/kernel/sched_rt_runtime_us); ask for less';
  if (errno === 'EOPNOTSUPP') return 'this kernel has no utilization clamping (CONFIG_UCLAMP_TASK); remove SCHED_FLAG_UTIL_CLAMP_MIN/MAX';
  if (errno === 'EINVAL') {
    if (attr.policy === POLICIES.SCHED_ISO) return 'SCHED_ISO is not implemented by mainline Linux; choose another policy';
    if (attr.policy === POLICIES.SCHED_DEADLINE) {
      return 'the kernel refused the deadline parameters; the period must also lie within /proc/sys/kernel/sched_deadline_period_{min,max}_us';
    }
    return 'the kernel refused these scheduling parameters';
  }
  return undefined;
}
