import { describe, expect, it } from 'vitest';
import { isPaused, setFreezerState } from '../../../../../src/linux/cgroups/v1/freezer.js';
import { RecordingKernel } from '../../../fakes/recording-kernel.js';

const DIR = '/sys/fs/cgroup/freezer/c1';
const STATE = `${DIR}/freezer.state`;

/** A freezer.state that reads `states` one after the other (the last one stays), whatever is written. */
function freezer(...states: string[]): RecordingKernel {
  const kernel = new RecordingKernel();
  const readFile = kernel.readFile.bind(kernel);
  kernel.readFile = (path: string) => {
    readFile(path);
    return path === STATE ? `${states.length > 1 ? states.shift() : states[0]}\n` : '';
  };
  return kernel;
}

describe('setFreezerState', () => {
  it('writes FROZEN, then waits for freezer.state to read FROZEN', async () => {
    const kernel = freezer('FROZEN');
    await setFreezerState(kernel, DIR, true);
    expect(kernel.summary()).toEqual([`writeFile ${STATE}`, `readFile ${STATE}`]);
    expect(kernel.callsTo('writeFile')[0]?.data).toBe('FROZEN');
  });

  it('writes FROZEN again while the kernel says FREEZING (the v1 freezer can miss new tasks)', async () => {
    const kernel = freezer('FREEZING', 'FREEZING', 'FROZEN');
    await setFreezerState(kernel, DIR, true);
    expect(kernel.callsTo('writeFile').map((c) => c.data)).toEqual(['FROZEN', 'FROZEN', 'FROZEN']);
  });

  it('thaws with THAWED and waits for it', async () => {
    const kernel = freezer('FROZEN', 'THAWED');
    await setFreezerState(kernel, DIR, false);
    expect(kernel.callsTo('writeFile').map((c) => c.data)).toEqual(['THAWED']);
    expect(kernel.callsTo('readFile')).toHaveLength(2);
  });

  it('thaws again and fails when the cgroup does not freeze in time', async () => {
    const kernel = freezer('FREEZING');
    await expect(setFreezerState(kernel, DIR, true, 50)).rejects.toThrow(
      `${STATE} still said FREEZING instead of FROZEN after 0.05 s; the container was thawed again`,
    );
    expect(kernel.callsTo('writeFile').at(-1)?.data).toBe('THAWED');
  });
});

describe('isPaused', () => {
  const kernel = (files: Record<string, string>) => new RecordingKernel(files);

  it('is what runc calls paused: this cgroup asked to freeze, settling or done', () => {
    expect(isPaused(kernel({ [STATE]: 'FROZEN\n', [`${DIR}/freezer.self_freezing`]: '1\n' }), DIR)).toBe(true);
    expect(isPaused(kernel({ [STATE]: 'FREEZING\n', [`${DIR}/freezer.self_freezing`]: '1\n' }), DIR)).toBe(true);
    expect(isPaused(kernel({ [STATE]: 'THAWED\n', [`${DIR}/freezer.self_freezing`]: '0\n' }), DIR)).toBe(false);
  });

  it('is not paused when only an ancestor is frozen', () => {
    expect(isPaused(kernel({ [STATE]: 'FROZEN\n', [`${DIR}/freezer.self_freezing`]: '0\n' }), DIR)).toBe(false);
  });

  it('takes FROZEN for paused on kernels without self_freezing, and a cgroup that is gone for running', () => {
    expect(isPaused(kernel({ [STATE]: 'FROZEN\n' }), DIR)).toBe(true);
    expect(isPaused(kernel({}), DIR)).toBe(false);
  });
});
