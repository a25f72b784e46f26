import { describe, expect, it } from 'vitest';
import { checkMemoryAboveUsage } from '../../../../../src/linux/cgroups/v2/resources/check-memory-usage.js';
import { RecordingKernel } from '../../../fakes/recording-kernel.js';

const DIR = '/sys/fs/cgroup/c1';
const using = (bytes: number) => new RecordingKernel({ [`${DIR}/memory.current`]: `${bytes}\n` });

describe('checkMemoryAboveUsage (memory.checkBeforeUpdate)', () => {
  it('refuses a limit at or below the current usage', () => {
    expect(() => checkMemoryAboveUsage(using(5000), DIR, { limit: 5000, checkBeforeUpdate: true })).toThrow(
      "linux.resources.memory.limit: 5000 bytes is not above the container's current usage (5000 bytes in memory.current), and memory.checkBeforeUpdate is set",
    );
    expect(() => checkMemoryAboveUsage(using(5000), DIR, { limit: 8000, swap: 4000, checkBeforeUpdate: true })).toThrow(/^linux\.resources\.memory\.swap: 4000 bytes/);
  });

  it('accepts a limit above the usage, -1, and any limit without checkBeforeUpdate', () => {
    expect(() => checkMemoryAboveUsage(using(5000), DIR, { limit: 5001, checkBeforeUpdate: true })).not.toThrow();
    expect(() => checkMemoryAboveUsage(using(5000), DIR, { limit: -1, checkBeforeUpdate: true })).not.toThrow();
    const kernel = using(5000);
    expect(() => checkMemoryAboveUsage(kernel, DIR, { limit: 10 })).not.toThrow();
    expect(() => checkMemoryAboveUsage(kernel, DIR, { limit: 10, checkBeforeUpdate: false })).not.toThrow();
    expect(kernel.calls).toEqual([]);
  });

  it('skips the check when the usage cannot be read (best effort, as runc)', () => {
    expect(() => checkMemoryAboveUsage(new RecordingKernel(), DIR, { limit: 1, checkBeforeUpdate: true })).not.toThrow();
  });
});
