import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MS } from '../../../ffi/constants.js';
import { lockedFlags, mountContaining, parseMountInfo, readMountInfo } from '../../../src/linux/mountinfo.js';
import { hostMounts } from './fixtures.js';

const SAMPLE = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro',
  '23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw',
  '41 31 0:38 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate',
  '60 22 0:50 /volumes/my\\040data /mnt/my\\040data\\011tab rw,noatime master:3 propagate_from:2 - overlay over\\134lay rw,lowerdir=/a',
  '61 22 0:51 / /private ro,nosuid - tmpfs tmpfs rw,size=1024k',
  '',
].join('\n');

describe('parseMountInfo', () => {
  it('reads every field of proc(5) mountinfo', () => {
    const [root, proc] = parseMountInfo(SAMPLE);
    expect(root).toEqual({
      id: 22,
      parent: 1,
      root: '/',
      mountPoint: '/',
      options: ['rw', 'relatime'],
      optional: ['shared:1'],
      fsType: 'ext4',
      source: '/dev/sda1',
      superOptions: ['rw', 'errors=remount-ro'],
    });
    expect(proc).toMatchObject({ id: 23, parent: 22, mountPoint: '/proc', options: ['rw', 'nosuid', 'nodev', 'noexec', 'relatime'], fsType: 'proc' });
  });

  it('decodes octal escapes (\\040 space, \\011 tab, \\134 backslash) in root, mount point and source', () => {
    const entry = parseMountInfo(SAMPLE)[3];
    expect(entry?.root).toBe('/volumes/my data');
    expect(entry?.mountPoint).toBe('/mnt/my data\ttab');
    expect(entry?.source).toBe('over\\lay');
  });

  it('decodes in one pass: an escaped backslash followed by digits stays a backslash and digits', () => {
    const [entry] = parseMountInfo('1 0 0:1 / /a\\134040b rw - tmpfs x rw');
    expect(entry?.mountPoint).toBe('/a\\040b');
  });

  it('keeps any number of optional fields, and none', () => {
    const entries = parseMountInfo(SAMPLE);
    expect(entries[3]?.optional).toEqual(['master:3', 'propagate_from:2']);
    expect(entries[4]?.optional).toEqual([]);
    expect(entries[4]).toMatchObject({ mountPoint: '/private', fsType: 'tmpfs', source: 'tmpfs', superOptions: ['rw', 'size=1024k'] });
  });

  it('skips blank lines', () => {
    expect(parseMountInfo(SAMPLE)).toHaveLength(5);
    expect(parseMountInfo('\n\n')).toEqual([]);
  });

  it('parses this process\'s own table', () => {
    const entries = readMountInfo();
    const lines = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l !== '');
    expect(entries).toHaveLength(lines.length);
    expect(entries.every((e) => e.mountPoint.startsWith('/') && e.fsType !== '')).toBe(true);
  });
});

describe('mountContaining', () => {
  const mounts = parseMountInfo(SAMPLE);

  it('finds the longest mount point that is a path prefix', () => {
    expect(mountContaining(mounts, '/proc/self')?.mountPoint).toBe('/proc');
    expect(mountContaining(mounts, '/proc')?.mountPoint).toBe('/proc');
    expect(mountContaining(mounts, '/sys/fs/cgroup/unified/x/y')?.mountPoint).toBe('/sys/fs/cgroup/unified');
    expect(mountContaining(mounts, '/mnt/my data\ttab/file')?.id).toBe(60);
  });

  it('matches whole components only', () => {
    expect(mountContaining(mounts, '/process')?.mountPoint).toBe('/');
    expect(mountContaining(mounts, '/privateer')?.mountPoint).toBe('/');
    expect(mountContaining(mounts, '/sys/fs/cgroup/unifiedx')?.mountPoint).toBe('/');
  });

  it('takes the last of several mounts on the same point (the one on top)', () => {
    const stacked = hostMounts('/ rw', '/srv rw,nodev', '/srv rw,noexec');
    expect(mountContaining(stacked, '/srv/a')?.options).toEqual(['rw', 'noexec']);
  });

  it('finds nothing in an empty table', () => {
    expect(mountContaining([], '/x')).toBeUndefined();
  });
});

describe('lockedFlags', () => {
  it('collects the per-mount flags a user namespace cannot clear', () => {
    const [entry] = hostMounts('/x ro,nosuid,nodev,noexec,noatime,nodiratime');
    expect(lockedFlags(entry)).toBe(MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NOATIME | MS.NODIRATIME);
    expect(lockedFlags(hostMounts('/x rw,relatime')[0])).toBe(MS.RELATIME);
    expect(lockedFlags(hostMounts('/x rw')[0])).toBe(0);
  });

  it('reads the per-mount options, not the superblock ones', () => {
    // superOptions here are "rw" but the mount itself is ro: ro is locked.
    const [entry] = parseMountInfo('1 0 0:1 / /x ro,nosuid - ext4 /dev/sdb rw,nodev');
    expect(lockedFlags(entry)).toBe(MS.RDONLY | MS.NOSUID);
  });

  it('is 0 for no entry', () => {
    expect(lockedFlags(undefined)).toBe(0);
  });
});
