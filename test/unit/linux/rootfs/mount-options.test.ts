import { describe, expect, it } from 'vitest';
import { MS } from '../../../../ffi/constants.js';
import { MOUNT_ATTR, parseMountOptions, propagationFlags } from '../../../../src/linux/rootfs/mount-options.js';

describe('parseMountOptions', () => {
  it('returns nothing to do for no options', () => {
    const none = { flags: 0, propagation: [], data: '', bind: false, recursive: false, copyUp: false, recursiveSet: 0, recursiveClear: 0 };
    expect(parseMountOptions()).toEqual(none);
    expect(parseMountOptions([])).toEqual(none);
  });

  it('maps each flag option to its MS_ bit', () => {
    const cases: Array<[string, number]> = [
      ['ro', 0x1],
      ['nosuid', 0x2],
      ['nodev', 0x4],
      ['noexec', 0x8],
      ['sync', 0x10],
      ['remount', 0x20],
      ['mand', 0x40],
      ['dirsync', 0x80],
      ['nosymfollow', 0x100],
      ['noatime', 0x400],
      ['nodiratime', 0x800],
      ['relatime', 1 << 21],
      ['strictatime', 1 << 24],
      ['lazytime', 1 << 25],
    ];
    for (const [option, bit] of cases) expect(parseMountOptions([option]).flags, option).toBe(bit);
  });

  it('combines flags', () => {
    expect(parseMountOptions(['nosuid', 'noexec', 'nodev', 'ro']).flags).toBe(MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RDONLY);
  });

  it('lets a clearing option undo an earlier flag, and a later flag win again (left to right)', () => {
    expect(parseMountOptions(['ro', 'rw']).flags).toBe(0);
    expect(parseMountOptions(['rw', 'ro']).flags).toBe(MS.RDONLY);
    expect(parseMountOptions(['nosuid', 'nodev', 'suid']).flags).toBe(MS.NODEV);
    expect(parseMountOptions(['noexec', 'exec', 'nodev', 'dev']).flags).toBe(0);
    expect(parseMountOptions(['noatime', 'atime']).flags).toBe(0);
    expect(parseMountOptions(['relatime', 'norelatime']).flags).toBe(0);
    expect(parseMountOptions(['strictatime', 'nostrictatime']).flags).toBe(0);
    expect(parseMountOptions(['sync', 'async']).flags).toBe(0);
    expect(parseMountOptions(['nosymfollow', 'symfollow']).flags).toBe(0);
    expect(parseMountOptions(['mand', 'nomand']).flags).toBe(0);
    expect(parseMountOptions(['lazytime', 'nolazytime']).flags).toBe(0);
    expect(parseMountOptions(['nodiratime', 'diratime']).flags).toBe(0);
  });

  it('treats "defaults" as no flag and not as data', () => {
    expect(parseMountOptions(['defaults', 'nosuid'])).toMatchObject({ flags: MS.NOSUID, data: '' });
  });

  it('collects propagation options separately, in order, r* forms with MS_REC', () => {
    const parsed = parseMountOptions(['rprivate', 'shared', 'rslave', 'unbindable', 'private', 'rshared', 'slave', 'runbindable']);
    expect(parsed.flags).toBe(0);
    expect(parsed.propagation).toEqual([
      MS.PRIVATE | MS.REC,
      MS.SHARED,
      MS.SLAVE | MS.REC,
      MS.UNBINDABLE,
      MS.PRIVATE,
      MS.SHARED | MS.REC,
      MS.SLAVE,
      MS.UNBINDABLE | MS.REC,
    ]);
  });

  it('recognises bind and rbind without putting them in flags or data', () => {
    expect(parseMountOptions(['bind'])).toMatchObject({ flags: 0, propagation: [], data: '', bind: true, recursive: false });
    expect(parseMountOptions(['rbind'])).toMatchObject({ flags: 0, propagation: [], data: '', bind: true, recursive: true });
    // Once recursive, a later "bind" does not make it non-recursive.
    expect(parseMountOptions(['rbind', 'bind', 'ro'])).toMatchObject({ flags: MS.RDONLY, propagation: [], data: '', bind: true, recursive: true });
  });

  it('passes anything else through as comma-joined data, in order', () => {
    const parsed = parseMountOptions(['nosuid', 'mode=755', 'size=65536k', 'newinstance', 'ptmxmode=0666', 'gid=5']);
    expect(parsed.flags).toBe(MS.NOSUID);
    expect(parsed.data).toBe('mode=755,size=65536k,newinstance,ptmxmode=0666,gid=5');
  });

  it('takes tmpcopyup as a request to copy the covered directory, neither a flag nor tmpfs data', () => {
    expect(parseMountOptions(['nosuid', 'mode=755'])).toMatchObject({ copyUp: false });
    expect(parseMountOptions(['nosuid', 'tmpcopyup', 'mode=755'])).toMatchObject({ flags: MS.NOSUID, data: 'mode=755', copyUp: true });
  });

  it('refuses the options tsrun does not implement instead of ignoring them', () => {
    for (const option of ['idmap', 'ridmap', 'rnoatime', 'ratime', 'rrelatime', 'rnorelatime', 'rstrictatime', 'rnostrictatime']) {
      expect(() => parseMountOptions(['nosuid', option]), option).toThrow(`mount option "${option}" is not supported by tsrun yet`);
    }
  });

  it('uses the MOUNT_ATTR_* values of linux/mount.h', () => {
    expect(MOUNT_ATTR).toEqual({
      RDONLY: 0x1,
      NOSUID: 0x2,
      NODEV: 0x4,
      NOEXEC: 0x8,
      ATIME_MASK: 0x70,
      NOATIME: 0x10,
      STRICTATIME: 0x20,
      NODIRATIME: 0x80,
      NOSYMFOLLOW: 0x200000,
    });
  });

  it('collects the recursive r* flag options as mount_setattr attributes, not as flags or data', () => {
    const parsed = parseMountOptions(['rbind', 'rro', 'rnosuid', 'rnodev', 'rnoexec', 'rnodiratime', 'rnosymfollow']);
    expect(parsed).toMatchObject({ flags: 0, data: '', recursiveClear: 0 });
    expect(parsed.recursiveSet).toBe(0x1 | 0x2 | 0x4 | 0x8 | 0x80 | 0x200000);
    const cleared = parseMountOptions(['rrw', 'rsuid', 'rdev', 'rexec', 'rdiratime', 'rsymfollow']);
    expect(cleared).toMatchObject({ flags: 0, data: '', recursiveSet: 0 });
    expect(cleared.recursiveClear).toBe(0x1 | 0x2 | 0x4 | 0x8 | 0x80 | 0x200000);
  });

  it('lets the last of a recursive set/clear pair win, never both', () => {
    expect(parseMountOptions(['rro', 'rrw'])).toMatchObject({ recursiveSet: 0, recursiveClear: MOUNT_ATTR.RDONLY });
    expect(parseMountOptions(['rrw', 'rro'])).toMatchObject({ recursiveSet: MOUNT_ATTR.RDONLY, recursiveClear: 0 });
    expect(parseMountOptions(['rnosuid', 'rro', 'rsuid'])).toMatchObject({ recursiveSet: MOUNT_ATTR.RDONLY, recursiveClear: MOUNT_ATTR.NOSUID });
  });

  it('keeps a non-recursive flag and its recursive form apart', () => {
    expect(parseMountOptions(['ro', 'rnosuid'])).toMatchObject({ flags: MS.RDONLY, recursiveSet: MOUNT_ATTR.NOSUID });
  });
});

describe('propagationFlags', () => {
  it('maps rootfsPropagation names, r* forms recursive', () => {
    expect(propagationFlags('private')).toBe(MS.PRIVATE);
    expect(propagationFlags('rslave')).toBe(MS.SLAVE | MS.REC);
    expect(propagationFlags('shared')).toBe(MS.SHARED);
    expect(propagationFlags('unbindable')).toBe(MS.UNBINDABLE);
  });

  it('refuses a name that is not a propagation mode', () => {
    expect(() => propagationFlags('nosuid')).toThrow('linux.rootfsPropagation "nosuid" is not a propagation mode');
  });
});
