import { describe, expect, it } from 'vitest';
import { applyIoPriority, ioPriorityValue } from '../../../../src/linux/process/io-priority.js';
import { RecordingScheduler } from '../../fakes/recording-scheduler.js';

describe('process.ioPriority', () => {
  it('is IOPRIO_PRIO_VALUE(class, level): the class in bits 13 and up', () => {
    expect(ioPriorityValue({ class: 'IOPRIO_CLASS_RT', priority: 0 })).toBe((1 << 13) | 0);
    expect(ioPriorityValue({ class: 'IOPRIO_CLASS_BE', priority: 4 })).toBe((2 << 13) | 4);
    expect(ioPriorityValue({ class: 'IOPRIO_CLASS_IDLE', priority: 7 })).toBe((3 << 13) | 7);
  });

  it('refuses a level outside 0-7, naming the field', () => {
    expect(() => ioPriorityValue({ class: 'IOPRIO_CLASS_BE', priority: 8 })).toThrow(
      'process.ioPriority.priority: 8 is outside 0 (highest) to 7 (lowest)',
    );
  });

  it('is set from outside on the pid, then read back', () => {
    const k = new RecordingScheduler();
    applyIoPriority(k, 42, { class: 'IOPRIO_CLASS_IDLE', priority: 3 });
    expect(k.calls).toEqual([
      { op: 'setIoPriority', pid: 42, value: (3 << 13) | 3 },
      { op: 'getIoPriority', pid: 42 },
    ]);
  });

  it('does nothing without the field', () => {
    const k = new RecordingScheduler();
    applyIoPriority(k, 42, undefined);
    expect(k.calls).toEqual([]);
  });

  it('refuses a priority the kernel does not show afterwards', () => {
    const k = new RecordingScheduler();
    k.setIoPriority = (pid, value) => {
      k.calls.push({ op: 'setIoPriority', pid, value });
      return 0;
    };
    expect(() => applyIoPriority(k, 42, { class: 'IOPRIO_CLASS_RT', priority: 1 })).toThrow(
      'process.ioPriority: the container process (pid 42) has I/O priority class 2 level 4 after ioprio_set, expected IOPRIO_CLASS_RT (1) level 1',
    );
  });

  it('explains EPERM: the real-time class needs CAP_SYS_NICE', () => {
    const k = new RecordingScheduler();
    k.fail.set('setIoPriority', 'EPERM');
    expect(() => applyIoPriority(k, 42, { class: 'IOPRIO_CLASS_RT', priority: 0 })).toThrow(
      'ioprio_set pid 42 (process.ioPriority IOPRIO_CLASS_RT 0): EPERM (operation not permitted): the real-time I/O class needs CAP_SYS_NICE or CAP_SYS_ADMIN in tsrun (an unprivileged tsrun has neither); use IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE',
    );
    expect(k.ops()).toEqual(['setIoPriority 42']);
  });
});
