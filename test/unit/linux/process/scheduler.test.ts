import { describe, expect, it, vi } from 'vitest';
import { decodeSchedAttr, encodeSchedAttr, SCHED_ATTR_SIZE } from '../../../../ffi/scheduling.js';
import { SYS } from '../../../../ffi/syscall-numbers.js';
import type { Scheduler } from '../../../../src/config/types.js';
import { applyScheduler, schedulerAttr } from '../../../../src/linux/process/scheduler.js';
import { RecordingScheduler } from '../../fakes/recording-scheduler.js';

const attr = (over: Partial<ReturnType<typeof schedulerAttr>>) => ({
  policy: 0,
  flags: 0n,
  nice: 0,
  priority: 0,
  runtime: 0n,
  deadline: 0n,
  period: 0n,
  ...over,
});

describe('process.scheduler as struct sched_attr', () => {
  it('maps each policy to its linux/sched.h number, unset numbers to 0', () => {
    expect(schedulerAttr({ policy: 'SCHED_OTHER' })).toEqual(attr({}));
    expect(schedulerAttr({ policy: 'SCHED_BATCH', nice: 5 })).toEqual(attr({ policy: 3, nice: 5 }));
    expect(schedulerAttr({ policy: 'SCHED_IDLE' })).toEqual(attr({ policy: 5 }));
    expect(schedulerAttr({ policy: 'SCHED_ISO' })).toEqual(attr({ policy: 4 }));
    expect(schedulerAttr({ policy: 'SCHED_FIFO', priority: 10 })).toEqual(attr({ policy: 1, priority: 10 }));
    expect(schedulerAttr({ policy: 'SCHED_RR', priority: 99 })).toEqual(attr({ policy: 2, priority: 99 }));
    expect(schedulerAttr({ policy: 'SCHED_DEADLINE', runtime: 1_000_000, deadline: 5_000_000, period: 10_000_000 })).toEqual(
      attr({ policy: 6, runtime: 1_000_000n, deadline: 5_000_000n, period: 10_000_000n }),
    );
  });

  it('maps the flag names to their bits', () => {
    const all: Scheduler['flags'] = [
      'SCHED_FLAG_RESET_ON_FORK',
      'SCHED_FLAG_RECLAIM',
      'SCHED_FLAG_DL_OVERRUN',
      'SCHED_FLAG_KEEP_POLICY',
      'SCHED_FLAG_KEEP_PARAMS',
      'SCHED_FLAG_UTIL_CLAMP_MIN',
      'SCHED_FLAG_UTIL_CLAMP_MAX',
    ];
    expect(schedulerAttr({ policy: 'SCHED_OTHER', flags: ['SCHED_FLAG_RESET_ON_FORK'] }).flags).toBe(0x01n);
    expect(schedulerAttr({ policy: 'SCHED_OTHER', flags: all }).flags).toBe(0x7fn);
  });

  it('refuses what the kernel would refuse with a bare EINVAL, or clamp silently, naming the field', () => {
    const refused: Array<[Scheduler, string]> = [
      [{ policy: 'SCHED_FIFO' }, 'process.scheduler.priority: SCHED_FIFO needs a static priority from 1 (lowest) to 99 (highest)'],
      [{ policy: 'SCHED_RR', priority: 100 }, 'process.scheduler.priority: 100 is outside 0 to 99'],
      [{ policy: 'SCHED_OTHER', priority: 5 }, 'process.scheduler.priority: SCHED_OTHER has no static priority, it must be 0 (or unset); use nice instead'],
      [{ policy: 'SCHED_OTHER', nice: -21 }, 'process.scheduler.nice: -21 is outside -20 (highest priority) to 19 (lowest)'],
      [{ policy: 'SCHED_BATCH', nice: 20 }, 'process.scheduler.nice: 20 is outside -20 (highest priority) to 19 (lowest)'],
      [{ policy: 'SCHED_DEADLINE' }, 'process.scheduler.runtime: SCHED_DEADLINE needs a runtime of at least 1024 ns, not 0'],
      [{ policy: 'SCHED_DEADLINE', runtime: 2000, deadline: 1000 }, 'process.scheduler.deadline: SCHED_DEADLINE needs runtime <= deadline, and 2000 > 1000 (ns)'],
      [
        { policy: 'SCHED_DEADLINE', runtime: 2000, deadline: 5000, period: 4000 },
        'process.scheduler.period: SCHED_DEADLINE needs deadline <= period (or period 0), and 5000 > 4000 (ns)',
      ],
    ];
    for (const [s, message] of refused) expect(() => schedulerAttr(s), JSON.stringify(s)).toThrow(message);
  });

  it('leaves the parameters to the kernel with SCHED_FLAG_KEEP_PARAMS, and the policy check with SCHED_FLAG_KEEP_POLICY', () => {
    expect(() => schedulerAttr({ policy: 'SCHED_FIFO', flags: ['SCHED_FLAG_KEEP_PARAMS'] })).not.toThrow();
    expect(() => schedulerAttr({ policy: 'SCHED_OTHER', priority: 5, flags: ['SCHED_FLAG_KEEP_POLICY'] })).not.toThrow();
  });

  it('is laid out as SCHED_ATTR_SIZE_VER1 (56 bytes), which the uclamp flags need', () => {
    const a = attr({ policy: 6, flags: 0x21n, nice: -3, priority: 0, runtime: 1024n, deadline: 2048n, period: 4096n });
    const buf = encodeSchedAttr(a);
    expect(SCHED_ATTR_SIZE).toBe(56);
    expect(buf.length).toBe(56);
    expect(buf.readUInt32LE(0)).toBe(56);
    expect(buf.readUInt32LE(4)).toBe(6);
    expect(buf.readBigUInt64LE(8)).toBe(0x21n);
    expect(buf.readInt32LE(16)).toBe(-3);
    expect([buf.readBigUInt64LE(24), buf.readBigUInt64LE(32), buf.readBigUInt64LE(40)]).toEqual([1024n, 2048n, 4096n]);
    expect(buf.subarray(48)).toEqual(Buffer.alloc(8));
    expect(decodeSchedAttr(buf)).toEqual(a);
  });

  it('goes through raw syscalls (glibc before 2.41 has no wrapper)', () => {
    const numbers = { x64: [314, 315, 251, 252], arm64: [274, 275, 30, 31] }[process.arch as 'x64' | 'arm64'];
    expect([SYS.sched_setattr, SYS.sched_getattr, SYS.ioprio_set, SYS.ioprio_get]).toEqual(numbers);
  });
});

describe('applyScheduler', () => {
  it('sets the attributes from outside on the pid, then reads them back', () => {
    const k = new RecordingScheduler();
    applyScheduler(k, 42, { policy: 'SCHED_RR', priority: 3, flags: ['SCHED_FLAG_RESET_ON_FORK'] });
    expect(k.calls).toEqual([
      { op: 'setScheduler', pid: 42, attr: attr({ policy: 2, priority: 3, flags: 1n }) },
      { op: 'getScheduler', pid: 42 },
    ]);
  });

  it('accepts the kernel reporting a DL period of 0 as the deadline', () => {
    const k = new RecordingScheduler();
    expect(() => applyScheduler(k, 42, { policy: 'SCHED_DEADLINE', runtime: 10_000, deadline: 100_000 })).not.toThrow();
  });

  it('refuses a process whose scheduling differs from what was set', () => {
    const k = new RecordingScheduler();
    k.setScheduler = () => 0;
    k.kernelView.set(42, { attr: attr({ policy: 0, nice: 0 }) });
    expect(() => applyScheduler(k, 42, { policy: 'SCHED_BATCH', nice: 7, flags: ['SCHED_FLAG_RESET_ON_FORK'] })).toThrow(
      'process.scheduler: the container process (pid 42) does not have the scheduling config.json asks for: policy is SCHED_OTHER, expected SCHED_BATCH; SCHED_FLAG_RESET_ON_FORK is clear, expected set',
    );
    k.kernelView.set(42, { attr: attr({ policy: 3, nice: 0, flags: 1n }) });
    expect(() => applyScheduler(k, 42, { policy: 'SCHED_BATCH', nice: 7, flags: ['SCHED_FLAG_RESET_ON_FORK'] })).toThrow(
      /: nice is 0, expected 7$/,
    );
  });

  it('names the capability or rlimit that EPERM stands for', () => {
    vi.spyOn(process, 'geteuid').mockReturnValue(1000);
    const cases: Array<[Scheduler, string]> = [
      [{ policy: 'SCHED_FIFO', priority: 20 }, 'SCHED_FIFO needs CAP_SYS_NICE, which tsrun lacks here (an unprivileged tsrun has none), or an RLIMIT_RTPRIO of at least 20 in process.rlimits'],
      [{ policy: 'SCHED_OTHER', nice: -5 }, 'a negative nice value needs CAP_SYS_NICE, which tsrun lacks here (an unprivileged tsrun has none), or an RLIMIT_NICE of at least 25 in process.rlimits'],
      [
        { policy: 'SCHED_DEADLINE', runtime: 10_000, deadline: 100_000 },
        'SCHED_DEADLINE needs CAP_SYS_NICE, which tsrun lacks here (an unprivileged tsrun has none), and a CPU affinity spanning every CPU of its scheduling domain (no process.execCPUAffinity.initial)',
      ],
    ];
    for (const [s, hint] of cases) {
      const k = new RecordingScheduler();
      k.fail.set('setScheduler', 'EPERM');
      expect(() => applyScheduler(k, 42, s)).toThrow(`sched_setattr pid 42 (process.scheduler ${s.policy}): EPERM (operation not permitted): ${hint}`);
      expect(k.ops()).toEqual(['setScheduler 42']);
    }
    vi.restoreAllMocks();
  });

  it('for root, whose CAP_SYS_NICE is not what is missing, names the real-time run time of the cpu cgroup', () => {
    vi.spyOn(process, 'geteuid').mockReturnValue(0);
    const k = new RecordingScheduler();
    k.fail.set('setScheduler', 'EPERM');
    expect(() => applyScheduler(k, 42, { policy: 'SCHED_RR', priority: 5 })).toThrow(
      "SCHED_RR needs real-time run time in the container's cpu cgroup, and a new cgroup v1 cpu cgroup has none (cpu.rt_runtime_us 0); give it some with linux.resources.cpu.realtimeRuntime (and realtimePeriod)",
    );
    vi.restoreAllMocks();
  });

  it('explains EINVAL for SCHED_ISO, which mainline Linux lacks', () => {
    const k = new RecordingScheduler();
    k.fail.set('setScheduler', 'EINVAL');
    expect(() => applyScheduler(k, 42, { policy: 'SCHED_ISO' })).toThrow(/EINVAL .*: SCHED_ISO is not implemented by mainline Linux; choose another policy$/);
  });

  it('does nothing without the field', () => {
    const k = new RecordingScheduler();
    applyScheduler(k, 42, undefined);
    expect(k.calls).toEqual([]);
  });
});
