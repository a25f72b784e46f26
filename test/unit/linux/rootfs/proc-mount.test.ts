import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Mount } from '../../../../src/config/types.js';
import { checkProcMount } from '../../../../src/linux/rootfs/proc-mount.js';
import { temporaryDir } from '../fixtures.js';

/** A rootfs with an empty /proc and the symlinks an image could use to reach it. */
function rootfs(): string {
  const root = temporaryDir();
  mkdirSync(join(root, 'proc'));
  mkdirSync(join(root, 'etc'));
  symlinkSync('/proc/sys', join(root, 'etc', 'to-sys'));
  symlinkSync('../proc', join(root, 'etc', 'to-proc'));
  return root;
}

const check = (root: string, mount: Mount, bindSource?: string) => () => checkProcMount(root, mount, 'mounts[3]', bindSource);

describe('checkProcMount', () => {
  it('lets procfs, or a bind of a procfs, be /proc', () => {
    const root = rootfs();
    expect(check(root, { destination: '/proc', type: 'proc', source: 'proc' })).not.toThrow();
    expect(check(root, { destination: '/proc', type: 'bind', source: '/proc' }, '/proc')).not.toThrow();
  });

  it('refuses anything else at /proc: another filesystem, or a bind of a directory', () => {
    const root = rootfs();
    expect(check(root, { destination: '/proc', type: 'tmpfs', source: 'tmpfs' })).toThrow('mounts[3]: /proc must be a procfs mount (type "proc", or a bind of one); this one is type "tmpfs"');
    expect(check(root, { destination: '/proc/', type: 'bind', source: root }, root)).toThrow(`this one is a bind of ${root}`);
  });

  it('refuses a bind or device mount under /proc, but on the files lxcfs emulates; a fresh filesystem is let through, as runc does', () => {
    const root = rootfs();
    expect(check(root, { destination: '/proc/sys', type: 'bind', source: root }, root)).toThrow('mounts[3]: /proc/sys is inside /proc, which a bind or device mount may not cover');
    expect(check(root, { destination: '/proc/sys', type: 'ext4', source: '/dev/sda1' })).toThrow(/\/proc\/sys is inside \/proc/);
    expect(check(root, { destination: '/proc/scsi', type: 'tmpfs', source: 'tmpfs' })).not.toThrow();
    expect(check(root, { destination: '/proc/self/attr/exec', type: 'bind', source: '/dev/null' }, '/dev/null')).toThrow(/\/proc\/self\/attr\/exec is inside \/proc/);
    expect(check(root, { destination: '/proc/meminfo', type: 'bind', source: '/var/lib/lxcfs/proc/meminfo' }, '/var/lib/lxcfs/proc/meminfo')).not.toThrow();
  });

  it('follows the image\'s symlinks as the container will, a missing tail included (the CVE-2019-19921 and CVE-2023-27561 route)', () => {
    const root = rootfs();
    expect(check(root, { destination: '/etc/to-sys', type: 'bind', source: root }, root)).toThrow('mounts[3]: /proc/sys (/etc/to-sys leads there through a symlink of the image) is inside /proc');
    expect(check(root, { destination: '/etc/to-proc/sys/kernel', type: 'bind', source: root }, root)).toThrow(/\/proc\/sys\/kernel \(\/etc\/to-proc\/sys\/kernel leads there/);
    expect(check(root, { destination: '/etc/to-proc', type: 'bind', source: root }, root)).toThrow(/\/proc \(\/etc\/to-proc leads there through a symlink of the image\) must be a procfs mount/);
  });

  it('leaves every other destination alone', () => {
    const root = rootfs();
    expect(check(root, { destination: '/data', type: 'bind', source: root }, root)).not.toThrow();
    expect(check(root, { destination: '/procfs', type: 'tmpfs' })).not.toThrow();
    expect(check(root, { destination: '/etc/../../proc2', type: 'tmpfs' })).not.toThrow();
  });
});
