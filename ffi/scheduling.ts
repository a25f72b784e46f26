import { lastErrno, libc } from './libc.js';
import { SyscallError } from './syscall-error.js';
import { SYS } from './syscall-numbers.js';

/**
 * The scheduling calls tsrun makes on another process from outside, by pid:
 * CPU affinity, scheduling policy and I/O priority. The container's process
 * cannot be trusted to report on itself once it runs the user's program, and
 * all three calls take a pid, so the parent sets them and reads them back.
 * Subsystems take this interface so unit tests can record the calls.
 *
 * Setters return 0 or the errno, so that the caller (which knows the config
 * field and what the kernel's refusal means for it) builds the error; getters
 * throw.
 */
export interface SchedulingKernel {
  /** sched_setaffinity(2) of thread `pid` to exactly these CPUs. */
  setAffinity(pid: number, cpus: readonly number[]): number;
  /** sched_getaffinity(2): the CPUs thread `pid` may run on, ascending. */
  getAffinity(pid: number): number[];
  /** sched_setattr(2) of thread `pid`. */
  setScheduler(pid: number, attr: SchedAttr): number;
  /** sched_getattr(2) of thread `pid`. */
  getScheduler(pid: number): SchedAttr;
  /** ioprio_set(IOPRIO_WHO_PROCESS, pid, value). */
  setIoPriority(pid: number, value: number): number;
  /** ioprio_get(IOPRIO_WHO_PROCESS, pid). */
  getIoPriority(pid: number): number;
}

/** struct sched_attr (linux/sched/types.h), the fields tsrun uses. */
export interface SchedAttr {
  readonly policy: number;
  readonly flags: bigint;
  readonly nice: number;
  readonly priority: number;
  readonly runtime: bigint;
  readonly deadline: bigint;
  readonly period: bigint;
}

/**
 * SCHED_ATTR_SIZE_VER1: the layout with sched_util_min/max. The uclamp
 * flags are refused (EINVAL) with the shorter VER0 layout, so tsrun always
 * passes this one; the runtime-spec has no fields for the clamp values,
 * which stay 0.
 */
export const SCHED_ATTR_SIZE = 56;

export function encodeSchedAttr(attr: SchedAttr): Buffer {
  const buf = Buffer.alloc(SCHED_ATTR_SIZE);
  buf.writeUInt32LE(SCHED_ATTR_SIZE, 0); //  size
  buf.writeUInt32LE(attr.policy, 4); //      sched_policy
  buf.writeBigUInt64LE(attr.flags, 8); //    sched_flags
  buf.writeInt32LE(attr.nice, 16); //        sched_nice
  buf.writeUInt32LE(attr.priority, 20); //   sched_priority
  buf.writeBigUInt64LE(attr.runtime, 24); // sched_runtime
  buf.writeBigUInt64LE(attr.deadline, 32); // sched_deadline
  buf.writeBigUInt64LE(attr.period, 40); //  sched_period
  // 48: sched_util_min, 52: sched_util_max
  return buf;
}

export function decodeSchedAttr(buf: Buffer): SchedAttr {
  return {
    policy: buf.readUInt32LE(4),
    flags: buf.readBigUInt64LE(8),
    nice: buf.readInt32LE(16),
    priority: buf.readUInt32LE(20),
    runtime: buf.readBigUInt64LE(24),
    deadline: buf.readBigUInt64LE(32),
    period: buf.readBigUInt64LE(40),
  };
}

/** The kernel's largest NR_CPUS: a mask this size covers every CPU number Linux can have. */
export const MAX_CPUS = 8192;
const MASK_BYTES = MAX_CPUS / 8;

const IOPRIO_WHO_PROCESS = 1;

export const schedulingKernel: SchedulingKernel = {
  setAffinity(pid, cpus) {
    const mask = Buffer.alloc(MASK_BYTES);
    for (const cpu of cpus) mask[cpu >> 3] = (mask[cpu >> 3] ?? 0) | (1 << (cpu & 7));
    return libc().schedSetaffinity(pid, mask.length, mask) === 0 ? 0 : lastErrno();
  },
  getAffinity(pid) {
    const mask = Buffer.alloc(MASK_BYTES);
    if (libc().schedGetaffinity(pid, mask.length, mask) !== 0) throw new SyscallError('sched_getaffinity', lastErrno(), `pid ${pid}`);
    const cpus: number[] = [];
    for (let cpu = 0; cpu < MAX_CPUS; cpu += 1) if (((mask[cpu >> 3] ?? 0) & (1 << (cpu & 7))) !== 0) cpus.push(cpu);
    return cpus;
  },
  setScheduler(pid, attr) {
    const buf = encodeSchedAttr(attr);
    const r = Number(libc().syscall(SYS.sched_setattr, 'int', pid, 'void *', buf, 'unsigned int', 0));
    return r === 0 ? 0 : lastErrno();
  },
  getScheduler(pid) {
    const buf = Buffer.alloc(SCHED_ATTR_SIZE);
    const r = Number(libc().syscall(SYS.sched_getattr, 'int', pid, 'void *', buf, 'unsigned int', buf.length, 'unsigned int', 0));
    if (r !== 0) throw new SyscallError('sched_getattr', lastErrno(), `pid ${pid}`);
    return decodeSchedAttr(buf);
  },
  setIoPriority(pid, value) {
    const r = Number(libc().syscall(SYS.ioprio_set, 'int', IOPRIO_WHO_PROCESS, 'int', pid, 'int', value));
    return r === 0 ? 0 : lastErrno();
  },
  getIoPriority(pid) {
    const r = Number(libc().syscall(SYS.ioprio_get, 'int', IOPRIO_WHO_PROCESS, 'int', pid));
    if (r < 0) throw new SyscallError('ioprio_get', lastErrno(), `pid ${pid}`);
    return r;
  },
};
