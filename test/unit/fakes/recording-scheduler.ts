import type { SchedAttr, SchedulingKernel } from '../../../ffi/scheduling.js';
import { errnoNumber } from './recording-kernel.js';

export type SchedulingCall =
  | { readonly op: 'setAffinity'; readonly pid: number; readonly cpus: readonly number[] }
  | { readonly op: 'getAffinity'; readonly pid: number }
  | { readonly op: 'setScheduler'; readonly pid: number; readonly attr: SchedAttr }
  | { readonly op: 'getScheduler'; readonly pid: number }
  | { readonly op: 'setIoPriority'; readonly pid: number; readonly value: number }
  | { readonly op: 'getIoPriority'; readonly pid: number };

/**
 * A SchedulingKernel that makes no system call. It records every call and
 * behaves like a kernel that keeps what it is given: a getter returns what
 * the last setter stored for that pid, unless a test changes `kernelView`
 * (what the kernel reports), and a setter fails with the errno `fail` names.
 */
export class RecordingScheduler implements SchedulingKernel {
  readonly calls: SchedulingCall[] = [];
  /** Setter -> errno it fails with (by name or number). */
  readonly fail = new Map<'setAffinity' | 'setScheduler' | 'setIoPriority', string | number>();
  /** CPUs the kernel keeps of a requested affinity (others dropped), as for offline CPUs; undefined keeps all. */
  online: readonly number[] | undefined;
  /** What the getters report, per pid; setters fill it in. */
  readonly kernelView = new Map<number, { affinity?: number[]; attr?: SchedAttr; ioprio?: number }>();

  private view(pid: number) {
    let v = this.kernelView.get(pid);
    if (v === undefined) {
      v = {};
      this.kernelView.set(pid, v);
    }
    return v;
  }

  private errno(op: 'setAffinity' | 'setScheduler' | 'setIoPriority'): number {
    const e = this.fail.get(op);
    return e === undefined ? 0 : errnoNumber(e);
  }

  setAffinity(pid: number, cpus: readonly number[]): number {
    this.calls.push({ op: 'setAffinity', pid, cpus: [...cpus] });
    const errno = this.errno('setAffinity');
    if (errno === 0) this.view(pid).affinity = cpus.filter((c) => this.online === undefined || this.online.includes(c));
    return errno;
  }

  getAffinity(pid: number): number[] {
    this.calls.push({ op: 'getAffinity', pid });
    return [...(this.view(pid).affinity ?? [0, 1])];
  }

  setScheduler(pid: number, attr: SchedAttr): number {
    this.calls.push({ op: 'setScheduler', pid, attr });
    const errno = this.errno('setScheduler');
    if (errno === 0) this.view(pid).attr = kernelKeeps(attr);
    return errno;
  }

  getScheduler(pid: number): SchedAttr {
    this.calls.push({ op: 'getScheduler', pid });
    return this.view(pid).attr ?? { policy: 0, flags: 0n, nice: 0, priority: 0, runtime: 0n, deadline: 0n, period: 0n };
  }

  setIoPriority(pid: number, value: number): number {
    this.calls.push({ op: 'setIoPriority', pid, value });
    const errno = this.errno('setIoPriority');
    if (errno === 0) this.view(pid).ioprio = value;
    return errno;
  }

  getIoPriority(pid: number): number {
    this.calls.push({ op: 'getIoPriority', pid });
    return this.view(pid).ioprio ?? (2 << 13) | 4;
  }

  /** The operations, in order, as "op pid". */
  ops(): string[] {
    return this.calls.map((c) => `${c.op} ${c.pid}`);
  }
}

/** What sched_getattr reports after a sched_setattr: only the reset-on-fork flag, a DL period of 0 as the deadline. */
function kernelKeeps(attr: SchedAttr): SchedAttr {
  const deadline = attr.policy === 6;
  return {
    ...attr,
    flags: attr.flags & 0x01n,
    period: deadline && attr.period === 0n ? attr.deadline : attr.period,
  };
}
