import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { LinuxDevice, Mount } from '../../../../src/config/types.js';
import { DEFAULT_DEVICES, makedev, planDevices } from '../../../../src/linux/rootfs/plan-devices.js';
import { baseSpec, ROOTFS_FDS, rootfsHarness } from '../fixtures.js';
import { mustFind, render, replayFds } from '../steps.js';

const IN_ROOT = 'RESOLVE_NO_MAGICLINKS|RESOLVE_IN_ROOT';
const openDir = (path: string) => `syscall(SYS_openat2, 3, "${path}", how{O_RDONLY|O_DIRECTORY|O_CLOEXEC|O_PATH, 0o0, ${IN_ROOT}}, 24) ?report`;
const openPath = (path: string) => `syscall(SYS_openat2, 3, "${path}", how{O_RDONLY|O_CLOEXEC|O_PATH, 0o0, ${IN_ROOT}}, 24) ?report`;

const DEVPTS: Mount = { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['newinstance', 'ptmxmode=0666'] };

function plan(options: { devices?: LinuxDevice[]; mounts?: Mount[]; userns?: boolean; owner?: { uid: number; gid: number } } = {}) {
  const spec = baseSpec({
    ...(options.mounts === undefined ? {} : { mounts: options.mounts }),
    linux: { namespaces: [{ type: 'mount' }], ...(options.devices === undefined ? {} : { devices: options.devices }) },
  });
  const h = rootfsHarness(spec, { userns: options.userns ?? false, owner: options.owner ?? { uid: 0, gid: 0 } });
  planDevices(h.ctx);
  return { lines: render(h.w.steps), steps: h.w.steps };
}

describe('makedev', () => {
  it('encodes dev_t as glibc does', () => {
    expect(makedev(1, 3)).toBe(0x103n);
    expect(makedev(5, 0)).toBe(0x500n);
    // minor above 255: its high bits go to bits 20..43
    expect(makedev(136, 300)).toBe(0x10882cn);
    // major above 4095: its high bits go to bits 44..63
    expect(makedev(4096, 5)).toBe(0x1000_0000_0005n);
    expect(makedev(0, 0)).toBe(0n);
    expect(makedev(0xffffffff, 0xffffffff)).toBe(0xffff_ffff_ffff_ffffn);
    expect(makedev(0xfffff, 0xfffff)).toBe(0x000f_f000_ffff_ffffn);
  });

  it('agrees with the rdev the kernel shows for /dev/null', () => {
    const st = statSync('/dev/null');
    if (!st.isCharacterDevice()) return;
    expect(makedev(1, 3)).toBe(BigInt(st.rdev));
  });
});

describe('planDevices without a user namespace', () => {
  it('creates /dev/null with unlinkat, mknodat (S_IFCHR|0666, makedev(1,3)) and fchownat in an openat2-resolved /dev', () => {
    const { lines } = plan();
    expect(lines.slice(0, 7)).toEqual([
      'mkdirat(3, "dev", 0o755) ?report tolerate=EEXIST',
      openDir('dev'),
      'unlinkat(4, "null", 0) ?report tolerate=ENOENT',
      'mknodat(4, "null", S_IFCHR|0o666, 0x103n) ?report',
      'fchownat(4, "null", 0, 0, AT_SYMLINK_NOFOLLOW) ?report',
      'close(4) ?report',
      'mkdirat(3, "dev", 0o755) ?report tolerate=EEXIST',
    ]);
  });

  it('creates the runtime-spec default devices with their numbers', () => {
    const { lines } = plan();
    expect(lines.filter((l) => l.startsWith('mknodat'))).toEqual([
      'mknodat(4, "null", S_IFCHR|0o666, 0x103n) ?report',
      'mknodat(4, "zero", S_IFCHR|0o666, 0x105n) ?report',
      'mknodat(4, "full", S_IFCHR|0o666, 0x107n) ?report',
      'mknodat(4, "random", S_IFCHR|0o666, 0x108n) ?report',
      'mknodat(4, "urandom", S_IFCHR|0o666, 0x109n) ?report',
      'mknodat(4, "tty", S_IFCHR|0o666, 0x500n) ?report',
    ]);
    expect(lines.some((l) => l.startsWith('mount('))).toBe(false);
    expect(DEFAULT_DEVICES.map((d) => d.path)).toEqual(['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty']);
  });

  it('adds linux.devices, lets one replace a default of the same path, and owns them by root (0:0), not the process user, when uid/gid are absent', () => {
    const { lines } = plan({
      owner: { uid: 1000, gid: 100 },
      devices: [
        { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o600, uid: 0, gid: 0 },
        { path: '/dev/sda', type: 'b', major: 8, minor: 0 },
        { path: '/dev/initctl', type: 'p', fileMode: 0o620, uid: 5, gid: 6 },
        { path: '/dev/ttyUSB0', type: 'u', major: 188, minor: 300, fileMode: 0o4660 },
      ],
    });
    expect(lines.filter((l) => l.startsWith('mknodat'))).toEqual([
      'mknodat(4, "null", S_IFCHR|0o600, 0x103n) ?report',
      'mknodat(4, "zero", S_IFCHR|0o666, 0x105n) ?report',
      'mknodat(4, "full", S_IFCHR|0o666, 0x107n) ?report',
      'mknodat(4, "random", S_IFCHR|0o666, 0x108n) ?report',
      'mknodat(4, "urandom", S_IFCHR|0o666, 0x109n) ?report',
      'mknodat(4, "tty", S_IFCHR|0o666, 0x500n) ?report',
      'mknodat(4, "sda", S_IFBLK|0o666, 0x800n) ?report',
      'mknodat(4, "initctl", S_IFIFO|0o620, 0x0n) ?report',
      'mknodat(4, "ttyUSB0", S_IFCHR|0o4660, 0x10bc2cn) ?report',
    ]);
    expect(lines.filter((l) => l.startsWith('fchownat')).slice(6)).toEqual([
      'fchownat(4, "sda", 0, 0, AT_SYMLINK_NOFOLLOW) ?report',
      'fchownat(4, "initctl", 5, 6, AT_SYMLINK_NOFOLLOW) ?report',
      'fchownat(4, "ttyUSB0", 0, 0, AT_SYMLINK_NOFOLLOW) ?report',
    ]);
  });

  it('creates the missing directories of a nested device path inside the rootfs', () => {
    const { lines } = plan({ devices: [{ path: '/dev/net/tun', type: 'c', major: 10, minor: 200 }] });
    const start = mustFind(lines, 'mkdirat(4, "net", 0o755) ?report tolerate=EEXIST');
    expect(lines.slice(start - 2, start + 8)).toEqual([
      'mkdirat(3, "dev", 0o755) ?report tolerate=EEXIST',
      openDir('dev'),
      'mkdirat(4, "net", 0o755) ?report tolerate=EEXIST',
      'close(4) ?report',
      openDir('dev/net'),
      'unlinkat(4, "tun", 0) ?report tolerate=ENOENT',
      'mknodat(4, "tun", S_IFCHR|0o666, 0xac8n) ?report',
      'fchownat(4, "tun", 0, 0, AT_SYMLINK_NOFOLLOW) ?report',
      'close(4) ?report',
      openDir('dev'), // the /dev symlinks
    ]);
  });

  it('refuses an unknown device type', () => {
    expect(() => plan({ devices: [{ path: '/dev/x', type: 'z' as 'c', major: 1, minor: 1 }] })).toThrow('linux.devices /dev/x: unknown type "z"');
  });
});

describe('planDevices in a user namespace', () => {
  it('bind-mounts the host node onto a file it creates, never mknod', () => {
    const { lines } = plan({ userns: true });
    expect(lines.slice(0, 6)).toEqual([
      'mkdirat(3, "dev", 0o755) ?report tolerate=EEXIST',
      // Non-blocking: an image may ship a FIFO where the node goes.
      'syscall(SYS_openat2, 3, "dev/null", how{O_RDONLY|O_CREAT|O_NOCTTY|O_NONBLOCK|O_CLOEXEC, 0o644, RESOLVE_NO_MAGICLINKS|RESOLVE_IN_ROOT}, 24) ?report',
      'close(4) ?report',
      openPath('dev/null'),
      'mount("/dev/null", "/proc/self/fd/4", null, MS_BIND, null) ?report',
      'close(4) ?report',
    ]);
    expect(lines.filter((l) => l.startsWith('mount('))).toEqual(
      ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty'].map(
        (p) => `mount("${p}", "/proc/self/fd/4", null, MS_BIND, null) ?report`,
      ),
    );
    expect(lines.filter((l) => /^(mknodat|fchownat|unlinkat\(4, "(null|tty)")/.test(l))).toEqual([]);
  });
});

describe('planDevices and /dev', () => {
  it('plans nothing at all when /dev is a bind mount of the host', () => {
    expect(plan({ mounts: [{ destination: '/dev', type: 'bind', source: '/dev' }] }).steps).toEqual([]);
    expect(plan({ mounts: [{ destination: '/dev', type: 'none', source: '/dev', options: ['rbind', 'nosuid'] }] }).steps).toEqual([]);
    expect(plan({ userns: true, mounts: [{ destination: '/dev', source: '/dev', options: ['bind'] }] }).steps).toEqual([]);
  });

  it('still creates devices when /dev is a tmpfs, or when only a subdirectory of /dev is bound', () => {
    expect(plan({ mounts: [{ destination: '/dev', type: 'tmpfs', source: 'tmpfs' }] }).lines.filter((l) => l.startsWith('mknodat'))).toHaveLength(6);
    expect(plan({ mounts: [{ destination: '/dev/shm', type: 'bind', source: '/dev/shm' }] }).lines.filter((l) => l.startsWith('mknodat'))).toHaveLength(6);
  });

  it('adds the /dev symlinks after the devices, each tolerating EEXIST', () => {
    const { lines } = plan();
    const start = lines.lastIndexOf(openDir('dev'));
    expect(lines.slice(start)).toEqual([
      openDir('dev'),
      'symlinkat("/proc/self/fd", 4, "fd") ?report tolerate=EEXIST',
      'symlinkat("/proc/self/fd/0", 4, "stdin") ?report tolerate=EEXIST',
      'symlinkat("/proc/self/fd/1", 4, "stdout") ?report tolerate=EEXIST',
      'symlinkat("/proc/self/fd/2", 4, "stderr") ?report tolerate=EEXIST',
      'symlinkat("/proc/kcore", 4, "core") ?report tolerate=EEXIST',
      'close(4) ?report',
    ]);
    expect(start).toBeGreaterThan(lines.lastIndexOf('mknodat(4, "tty", S_IFCHR|0o666, 0x500n) ?report'));
  });

  it('points /dev/ptmx at pts/ptmx only when the container mounts its own devpts', () => {
    const { lines } = plan({ mounts: [{ destination: '/dev', type: 'tmpfs', source: 'tmpfs' }, DEVPTS] });
    expect(lines.slice(-4)).toEqual([
      'symlinkat("/proc/kcore", 4, "core") ?report tolerate=EEXIST',
      'unlinkat(4, "ptmx", 0) ?report tolerate=ENOENT',
      'symlinkat("pts/ptmx", 4, "ptmx") ?report',
      'close(4) ?report',
    ]);
    expect(plan({ mounts: [{ destination: '/dev', type: 'tmpfs', source: 'tmpfs' }] }).lines.filter((l) => l.includes('ptmx'))).toEqual([]);
  });

  it('keeps the planned fds consistent, with nothing left open', () => {
    for (const userns of [false, true]) {
      const { steps } = plan({ userns, mounts: [DEVPTS], devices: [{ path: '/dev/net/tun', type: 'c', major: 10, minor: 200 }] });
      const replay = replayFds(steps, ROOTFS_FDS);
      expect(replay.problems, `userns ${userns}`).toEqual([]);
      expect(replay.leaked).toEqual(new Map());
    }
  });
});
