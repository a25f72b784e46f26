import { describe, expect, it } from 'vitest';
import { isFrozen, setFrozen } from '../../../../../src/linux/cgroups/v2/freezer.js';
import { RecordingKernel } from '../../../fakes/recording-kernel.js';

const DIR = '/sys/fs/cgroup/c1';

describe('setFrozen', () => {
  it('writes cgroup.freeze, then waits for cgroup.events to say frozen', async () => {
    const kernel = new RecordingKernel({ [`${DIR}/cgroup.events`]: 'populated 1\nfrozen 1\n' });
    await setFrozen(kernel, DIR, true);
    expect(kernel.summary()).toEqual([`writeFile ${DIR}/cgroup.freeze`, `readFile ${DIR}/cgroup.events`]);
    expect(kernel.files.get(`${DIR}/cgroup.freeze`)).toBe('1');
  });

  it('polls until the kernel reports the whole tree frozen', async () => {
    const kernel = new RecordingKernel({ [`${DIR}/cgroup.events`]: 'populated 1\nfrozen 0\n' });
    setTimeout(() => kernel.files.set(`${DIR}/cgroup.events`, 'populated 1\nfrozen 1\n'), 50);
    await setFrozen(kernel, DIR, true);
    expect(kernel.callsTo('readFile').length).toBeGreaterThan(1);
  });

  it('thaws with "0" and waits for frozen 0', async () => {
    const kernel = new RecordingKernel({ [`${DIR}/cgroup.events`]: 'populated 1\nfrozen 0\n' });
    await setFrozen(kernel, DIR, false);
    expect(kernel.files.get(`${DIR}/cgroup.freeze`)).toBe('0');
  });

  it('explains a kernel without the cgroup v2 freezer, whichever errno the missing file gives', async () => {
    const kernel = new RecordingKernel().failOn('writeFile', 'ENOENT');
    await expect(setFrozen(kernel, DIR, true)).rejects.toThrow(
      'write /sys/fs/cgroup/c1/cgroup.freeze: ENOENT (no such file or directory): this kernel has no cgroup v2 freezer (Linux 5.2 or later has one); the container cannot be paused',
    );
    const creating = new RecordingKernel().failOn('writeFile', 'EACCES');
    await expect(setFrozen(creating, DIR, true)).rejects.toThrow(/^write \/sys\/fs\/cgroup\/c1\/cgroup\.freeze: EACCES .*this kernel has no cgroup v2 freezer/);
  });
});

describe('isFrozen', () => {
  it('reads the frozen key of cgroup.events', () => {
    expect(isFrozen(new RecordingKernel({ [`${DIR}/cgroup.events`]: 'populated 1\nfrozen 1\n' }), DIR)).toBe(true);
    expect(isFrozen(new RecordingKernel({ [`${DIR}/cgroup.events`]: 'populated 0\nfrozen 0\n' }), DIR)).toBe(false);
  });
});
