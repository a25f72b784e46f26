import { describe, expect, it } from 'vitest';
import { applyAffinity, formatCpuList, parseCpuList, planAffinity } from '../../../../src/linux/process/cpu-affinity.js';
import { RecordingScheduler } from '../../fakes/recording-scheduler.js';

const F = 'process.execCPUAffinity.final';

describe('cpu lists', () => {
  it('reads numbers and ranges, in any order, with blanks, into ascending CPUs', () => {
    expect(parseCpuList('0-3,7', F)).toEqual([0, 1, 2, 3, 7]);
    expect(parseCpuList(' 7 , 1 - 2,2', F)).toEqual([1, 2, 7]);
    expect(parseCpuList('5', F)).toEqual([5]);
    expect(parseCpuList('', F)).toEqual([]);
    expect(parseCpuList('  ', F)).toEqual([]);
  });

  it('refuses what is not a list, a backwards range, a CPU Linux cannot have, naming the field', () => {
    expect(() => parseCpuList('1,,2', F)).toThrow('process.execCPUAffinity.final: "1,,2" is not a CPU list such as "0-3,7" (at "")');
    expect(() => parseCpuList('0-3;7', F)).toThrow('is not a CPU list such as "0-3,7" (at "0-3;7")');
    expect(() => parseCpuList('-1', F)).toThrow('is not a CPU list');
    expect(() => parseCpuList('3-1', F)).toThrow('process.execCPUAffinity.final: "3-1": the range 3-1 runs backwards; write 1-3');
    expect(() => parseCpuList('0-8192', F)).toThrow('process.execCPUAffinity.final: "0-8192": CPU 8192 is beyond the 8192 CPUs Linux can have');
  });

  it('folds ranges back when printing', () => {
    expect(formatCpuList([0, 1, 2, 3, 7])).toBe('0-3,7');
    expect(formatCpuList([1])).toBe('1');
    expect(formatCpuList([0, 2, 3, 5, 6, 7])).toBe('0,2-3,5-7');
    expect(formatCpuList([])).toBe('');
  });

  it('treats an absent or empty initial/final as "leave it alone"', () => {
    expect(planAffinity(undefined)).toEqual({});
    expect(planAffinity({ initial: '', final: '1' })).toEqual({ final: [1] });
    expect(planAffinity({ initial: '0-1' })).toEqual({ initial: [0, 1] });
    expect(() => planAffinity({ initial: '2-1' })).toThrow(/^process\.execCPUAffinity\.initial: /);
  });
});

describe('applyAffinity', () => {
  it('sets the affinity from outside on the pid, then reads it back', () => {
    const k = new RecordingScheduler();
    expect(applyAffinity(k, 42, [1], F)).toEqual([]);
    expect(k.calls).toEqual([
      { op: 'setAffinity', pid: 42, cpus: [1] },
      { op: 'getAffinity', pid: 42 },
    ]);
  });

  it('returns a warning for CPUs the kernel dropped (offline, outside the cpuset)', () => {
    const k = new RecordingScheduler();
    k.online = [0, 1];
    expect(applyAffinity(k, 42, [0, 1, 2, 3], F)).toEqual([
      "process.execCPUAffinity.final: CPUs 2-3 are offline or outside the process's cpuset; it runs on 0-1",
    ]);
  });

  it('refuses an affinity wider than asked', () => {
    const k = new RecordingScheduler();
    k.setAffinity = () => 0;
    k.kernelView.set(42, { affinity: [0, 1] });
    expect(() => applyAffinity(k, 42, [1], F)).toThrow(
      'process.execCPUAffinity.final: the container process (pid 42) may run on CPUs 0-1 after sched_setaffinity, not only 1',
    );
  });

  it('explains EINVAL: no CPU of the list is usable', () => {
    const k = new RecordingScheduler();
    k.fail.set('setAffinity', 'EINVAL');
    expect(() => applyAffinity(k, 42, [6, 7], 'process.execCPUAffinity.initial')).toThrow(
      'sched_setaffinity pid 42 (process.execCPUAffinity.initial "6-7"): EINVAL (invalid argument): none of CPUs 6-7 is online and in the process\'s cpuset (see /sys/devices/system/cpu/online)',
    );
  });
});
