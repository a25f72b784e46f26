import { describe, expect, it } from 'vitest';
import { writeResources } from '../../../../../src/linux/cgroups/v2/resources/apply-resources.js';
import { planResources } from '../../../../../src/linux/cgroups/v2/resources/plan-resources.js';
import { RecordingKernel } from '../../../fakes/recording-kernel.js';

const DIR = '/sys/fs/cgroup/c1';

function messageOf(fn: () => void): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a failure');
}

describe('writeResources', () => {
  it('writes each file of the plan in the cgroup, in order, with its field', () => {
    const kernel = new RecordingKernel();
    writeResources(kernel, DIR, planResources({ pids: { limit: 64 }, memory: { limit: 1 << 30 }, cpu: { quota: 50_000 } }).writes);
    expect(kernel.calls).toEqual([
      { op: 'writeFile', path: `${DIR}/pids.max`, data: '64', field: 'linux.resources.pids.limit' },
      { op: 'writeFile', path: `${DIR}/memory.max`, data: '1073741824', field: 'linux.resources.memory.limit' },
      { op: 'writeFile', path: `${DIR}/cpu.max`, data: '50000 100000', field: 'linux.resources.cpu.quota' },
    ]);
  });

  it('falls back to io.weight (converted) when the kernel has no io.bfq.weight', () => {
    const kernel = new RecordingKernel().failOn('writeFile', 'ENOENT', { when: (c) => c.path.endsWith('io.bfq.weight') });
    writeResources(kernel, DIR, planResources({ blockIO: { weight: 500 } }).writes);
    expect(kernel.summary()).toEqual([`writeFile ${DIR}/io.bfq.weight`, `writeFile ${DIR}/io.weight`]);
    expect(kernel.files.get(`${DIR}/io.weight`)).toBe('4950');
  });

  it('lets the tolerated errnos pass: a missing .rsvd.max, a burst refused before cpu.max', () => {
    const kernel = new RecordingKernel()
      .failOn('writeFile', 'ENOENT', { when: (c) => c.path.endsWith('.rsvd.max') })
      .failOn('writeFile', 'EINVAL', { when: (c) => c.path.endsWith('cpu.max.burst'), times: 1 });
    writeResources(kernel, DIR, planResources({ hugepageLimits: [{ pageSize: '2MB', limit: 2097152 }], cpu: { quota: 1000, burst: 500 } }).writes);
    expect(kernel.summary()).toEqual([
      `writeFile ${DIR}/cpu.max.burst`,
      `writeFile ${DIR}/cpu.max`,
      `writeFile ${DIR}/cpu.max.burst`,
      `writeFile ${DIR}/hugetlb.2MB.max`,
      `writeFile ${DIR}/hugetlb.2MB.rsvd.max`,
    ]);
    expect(kernel.files.get(`${DIR}/cpu.max.burst`)).toBe('500');
  });

  it('stops at the first failure, naming the value, file, errno, field and what to do', () => {
    const kernel = new RecordingKernel().failOn('writeFile', 'EINVAL', { when: (c) => c.path.endsWith('cpuset.cpus') });
    expect(messageOf(() => writeResources(kernel, DIR, planResources({ cpu: { cpus: '0-999', mems: '0' } }).writes))).toBe(
      'write "0-999" to /sys/fs/cgroup/c1/cpuset.cpus (linux.resources.cpu.cpus): EINVAL (invalid argument): ' +
        "the kernel refused the value; check it against cpuset.cpus in the kernel's cgroup v2 documentation",
    );
    expect(kernel.summary()).toEqual([`writeFile ${DIR}/cpuset.cpus`]);
  });

  it('explains a missing file, and does not tolerate it where a limit would be lost', () => {
    const kernel = new RecordingKernel().failOn('writeFile', 'ENOENT');
    expect(() => writeResources(kernel, DIR, planResources({ hugepageLimits: [{ pageSize: '64KB', limit: 1 }] }).writes)).toThrow(
      'write "1" to /sys/fs/cgroup/c1/hugetlb.64KB.max (linux.resources.hugepageLimits[0]): ENOENT (no such file or directory): ' +
        'this kernel has no hugetlb.64KB.max for the hugetlb controller (an older kernel, or a name it does not know); remove the field',
    );
    const swap = new RecordingKernel().failOn('writeFile', 'ENOENT');
    expect(() => writeResources(swap, DIR, planResources({ memory: { limit: 100, swap: 300 } }).writes)).toThrow(/memory\.swap\.max \(linux\.resources\.memory\.swap\): ENOENT/);
  });

  it('takes EACCES on a file the cgroup does not have for ENOENT (cgroupfs refuses O_CREAT so), as a read shows', () => {
    const kernel = new RecordingKernel().failOn('writeFile', 'EACCES', { when: (c) => c.path.endsWith('io.bfq.weight') });
    writeResources(kernel, DIR, planResources({ blockIO: { weight: 500 } }).writes);
    expect(kernel.summary()).toEqual([`writeFile ${DIR}/io.bfq.weight`, `readFile ${DIR}/io.bfq.weight`, `writeFile ${DIR}/io.weight`]);
    const missing = new RecordingKernel().failOn('writeFile', 'EACCES');
    expect(messageOf(() => writeResources(missing, DIR, planResources({ unified: { 'memory.bogus': '1' } }).writes))).toBe(
      'write "1" to /sys/fs/cgroup/c1/memory.bogus (linux.resources.unified["memory.bogus"]): ENOENT (no such file or directory): ' +
        'this kernel has no memory.bogus for the memory controller (an older kernel, or a name it does not know); remove the field',
    );
  });

  it('explains a permission error on a file that exists', () => {
    const kernel = new RecordingKernel({ [`${DIR}/pids.max`]: 'max\n' }).failOn('writeFile', 'EACCES');
    expect(() => writeResources(kernel, DIR, planResources({ pids: { limit: 1 } }).writes)).toThrow(
      "EACCES (permission denied): tsrun may not write the cgroup's files; run as root, or delegate the cgroup to this user",
    );
  });
});
