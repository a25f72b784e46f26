import { describe, expect, it } from 'vitest';
import { ChainWriter } from '../../../../src/linux/chain-writer.js';
import { FdTable } from '../../../../src/linux/fd-table.js';
import { personalityValue, planPersonality, verifyPersonality } from '../../../../src/linux/process/personality.js';
import { RecordingKernel } from '../../fakes/recording-kernel.js';
import { render } from '../steps.js';

function steps(p: Parameters<typeof planPersonality>[0]): string[] {
  const w = new ChainWriter(new FdTable([0, 1, 2]));
  planPersonality(p, w);
  return render(w.steps);
}

describe('linux.personality', () => {
  it('is one checked personality(2) call with PER_LINUX32 (8) or PER_LINUX (0)', () => {
    expect(steps({ domain: 'LINUX32' })).toEqual(['personality(8) ?report']);
    // LINUX is still a call: it clears whatever persona tsrun inherited.
    expect(steps({ domain: 'LINUX' })).toEqual(['personality(0) ?report']);
    expect(steps({ domain: 'LINUX32', flags: [] })).toEqual(['personality(8) ?report']);
  });

  it('adds no step without the field', () => {
    expect(steps(undefined)).toEqual([]);
  });

  it('names the domain in the step, for the error the parent reports', () => {
    const w = new ChainWriter(new FdTable([0, 1, 2]));
    planPersonality({ domain: 'LINUX32' }, w);
    expect(w.steps[0]).toMatchObject({ kind: 'call', fn: 'personality', report: 'personality(0x8) (linux.personality.domain LINUX32)' });
  });

  it('refuses flags: config-linux.md defines none', () => {
    expect(() => personalityValue({ domain: 'LINUX', flags: ['ADDR_NO_RANDOMIZE'] })).toThrow(
      'linux.personality.flags: ADDR_NO_RANDOMIZE: the runtime-spec defines no personality flags, so tsrun sets none; remove the flags',
    );
  });

  it('checks /proc/<pid>/personality at ready', () => {
    const ok = new RecordingKernel({ '/proc/42/personality': '00000008\n' });
    expect(() => verifyPersonality(ok, 42, { domain: 'LINUX32' })).not.toThrow();
    expect(ok.summary()).toEqual(['readFile /proc/42/personality']);

    const wrong = new RecordingKernel({ '/proc/42/personality': '00000000\n' });
    expect(() => verifyPersonality(wrong, 42, { domain: 'LINUX32' })).toThrow(
      'linux.personality: the container process (pid 42) has persona 0x00000000, expected 0x00000008 (domain LINUX32)',
    );
  });

  it('skips the check when procfs denies it (an unprivileged tsrun after the credential change), and reads nothing without the field', () => {
    const denied = new RecordingKernel().failOn('readFile', 'EACCES');
    expect(() => verifyPersonality(denied, 42, { domain: 'LINUX32' })).not.toThrow();
    const gone = new RecordingKernel();
    expect(() => verifyPersonality(gone, 42, { domain: 'LINUX32' })).toThrow(/ENOENT/);
    const none = new RecordingKernel();
    verifyPersonality(none, 42, undefined);
    expect(none.calls).toEqual([]);
  });
});
