import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { O, RESOLVE } from '../../../../ffi/constants.js';
import type { Mount } from '../../../../src/config/types.js';
import { planMounts } from '../../../../src/linux/rootfs/plan-mounts.js';
import { baseSpec, hostMounts, layout, ROOT_FD, ROOTFS_FDS, rootfsHarness, temporaryDir } from '../fixtures.js';
import { callSteps, decodeOpenHow, mustFind, render, replayFds } from '../steps.js';

const IN_ROOT = 'RESOLVE_NO_MAGICLINKS|RESOLVE_IN_ROOT';
const openPath = (path: string) => `syscall(SYS_openat2, 3, "${path}", how{O_RDONLY|O_CLOEXEC|O_PATH, 0o0, ${IN_ROOT}}, 24) ?report`;
const openDir = (path: string) => `syscall(SYS_openat2, 3, "${path}", how{O_RDONLY|O_DIRECTORY|O_CLOEXEC|O_PATH, 0o0, ${IN_ROOT}}, 24) ?report`;

/** A bundle with a directory `data/` and a file `file.txt`. */
function bundle(): { dir: string; data: string; file: string } {
  const dir = temporaryDir();
  layout(dir, { data: null, 'file.txt': 'x', rootfs: null });
  return { dir, data: join(dir, 'data'), file: join(dir, 'file.txt') };
}

function plan(mounts: Mount[], options: Parameters<typeof rootfsHarness>[1] = {}) {
  const h = rootfsHarness(baseSpec({ mounts }), options);
  planMounts(h.ctx);
  return { ...h, lines: render(h.w.steps), steps: h.w.steps };
}

describe('planMounts', () => {
  it('bind-mounts a directory onto a destination whose components are each created with mkdirat, EEXIST tolerated', () => {
    const b = bundle();
    const { lines } = plan([{ destination: '/mnt/data/inner', type: 'bind', source: b.data }]);
    expect(lines).toEqual([
      'mkdirat(3, "mnt", 0o755) ?report tolerate=EEXIST',
      openDir('mnt'),
      'mkdirat(4, "data", 0o755) ?report tolerate=EEXIST',
      'close(4) ?report',
      openDir('mnt/data'),
      'mkdirat(4, "inner", 0o755) ?report tolerate=EEXIST',
      'close(4) ?report',
      openPath('mnt/data/inner'),
      `mount(${JSON.stringify(b.data)}, "/proc/self/fd/4", null, MS_BIND, null) ?report`,
      'close(4) ?report',
    ]);
  });

  it('bind-mounts a file onto a file it creates with O_CREAT through openat2 RESOLVE_IN_ROOT', () => {
    const b = bundle();
    const { lines, steps } = plan([{ destination: '/etc/resolv.conf', type: 'bind', source: b.file }]);
    expect(lines[0]).toBe('mkdirat(3, "etc", 0o755) ?report tolerate=EEXIST');
    const create = callSteps(steps, 'SYS_openat2')[0];
    expect(create?.args.slice(1, 3)).toEqual([ROOT_FD, 'etc/resolv.conf']);
    const how = decodeOpenHow(create?.args[3] as Uint8Array);
    expect(how.flags & O.CREAT).toBe(O.CREAT);
    expect(how.flags & (O.DIRECTORY | O.PATH | O.TRUNC | O.EXCL)).toBe(0);
    expect(how.resolve & RESOLVE.IN_ROOT).toBe(RESOLVE.IN_ROOT);
    expect(how.mode).toBe(0o644);
    // No mkdirat for the file itself; the created file is closed, then opened O_PATH as the target.
    expect(lines.filter((l) => l.startsWith('mkdirat'))).toHaveLength(1);
    expect(lines.slice(2)).toEqual([
      'close(4) ?report',
      openPath('etc/resolv.conf'),
      `mount(${JSON.stringify(b.file)}, "/proc/self/fd/4", null, MS_BIND, null) ?report`,
      'close(4) ?report',
    ]);
  });

  // open(2) asks for write access with O_WRONLY even when the file already
  // exists, so on a rootfs that sits on a read-only mount (the image already
  // has /etc/hosts, /etc/resolv.conf) that step would fail with EROFS. As in
  // runc, the file is created O_RDONLY|O_CREAT.
  it('creates a file destination without asking for write access (EROFS on a read-only rootfs), nor waiting (an image may ship a FIFO there)', () => {
    const b = bundle();
    const { steps, lines } = plan([{ destination: '/etc/hosts', type: 'bind', source: b.file }]);
    const how = decodeOpenHow(callSteps(steps, 'SYS_openat2')[0]?.args[3] as Uint8Array);
    expect(how.flags & O.CREAT).toBe(O.CREAT);
    expect(how.flags & 3).toBe(O.RDONLY);
    expect(how.flags & O.NONBLOCK).toBe(O.NONBLOCK);
    expect(how.flags).toBe(O.CREAT | O.RDONLY | O.NOCTTY | O.NONBLOCK | O.CLOEXEC);
    expect(lines[1]).toBe(`syscall(SYS_openat2, 3, "etc/hosts", how{O_RDONLY|O_CREAT|O_NOCTTY|O_NONBLOCK|O_CLOEXEC, 0o644, ${IN_ROOT}}, 24) ?report`);
  });

  it('resolves every destination with openat2 RESOLVE_IN_ROOT from the rootfs fd; no mount target is a host path', () => {
    const b = bundle();
    const mounts: Mount[] = [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid'] },
      { destination: '/opt/data', type: 'bind', source: b.data, options: ['rbind', 'ro', 'rprivate'] },
      { destination: '/etc/hostname', source: b.file, options: ['bind', 'nosuid', 'rslave'] },
    ];
    const { steps } = plan(mounts);
    const replay = replayFds(steps, ROOTFS_FDS);
    expect(replay.problems).toEqual([]);

    const opens = callSteps(steps, 'SYS_openat2');
    expect(opens.length).toBeGreaterThan(mounts.length);
    for (const open of opens) {
      expect(open.args[1], 'openat2 dirfd').toBe(ROOT_FD);
      expect(String(open.args[2])).not.toMatch(/^\//);
      expect(decodeOpenHow(open.args[3] as Uint8Array).resolve & RESOLVE.IN_ROOT).toBe(RESOLVE.IN_ROOT);
    }
    expect(callSteps(steps, 'open')).toEqual([]);

    // Each mount(2) targets /proc/self/fd/N, N an openat2 of that very destination.
    const targets: string[] = [];
    steps.forEach((step, i) => {
      if (step.kind !== 'call' || step.fn !== 'mount') return;
      expect(step.args[1], `mount at step ${i}`).toMatch(/^\/proc\/self\/fd\/\d+$/);
      const fd = Number(String(step.args[1]).split('/').pop());
      targets.push(replay.before[i]?.get(fd) ?? '?');
    });
    expect(targets).toEqual([
      'proc (in rootfs)',
      'dev (in rootfs)',
      'dev/pts (in rootfs)',
      'sys/fs/cgroup (in rootfs)',
      'opt/data (in rootfs)', // rbind
      'opt/data (in rootfs)', // remount ro
      'opt/data (in rootfs)', // rprivate
      'etc/hostname (in rootfs)', // bind
      'etc/hostname (in rootfs)', // remount nosuid
      'etc/hostname (in rootfs)', // rslave
    ]);

    // mkdirat only ever under the rootfs fd or a directory opened inside it.
    steps.forEach((step, i) => {
      if (step.kind !== 'call' || step.fn !== 'mkdirat') return;
      const dir = replay.uses[i]?.[0]?.what ?? '';
      expect(dir === 'rootfs' || dir.endsWith('(in rootfs)'), `mkdirat at step ${i} in ${dir}`).toBe(true);
    });
  });

  it('opens and closes fds exactly as the planned table predicts', () => {
    const b = bundle();
    const { steps, fds } = plan([
      { destination: '/a/b/c', type: 'bind', source: b.data, options: ['ro', 'private', 'unbindable'] },
      { destination: '/a/f', type: 'bind', source: b.file, options: ['nodev'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['rshared'] },
    ]);
    const replay = replayFds(steps, ROOTFS_FDS);
    expect(replay.problems).toEqual([]);
    expect(replay.leaked).toEqual(new Map());
    for (let fd = 0; fd < 16; fd += 1) expect(fds.has(fd), `fd ${fd}`).toBe(replay.after.has(fd));
  });

  it('remounts a read-only bind with MS_REMOUNT|MS_BIND|MS_RDONLY on a reopened fd', () => {
    const b = bundle();
    const { lines, steps } = plan([{ destination: '/data', type: 'bind', source: b.data, options: ['rbind', 'ro'] }]);
    const bind = mustFind(lines, `mount(${JSON.stringify(b.data)}, "/proc/self/fd/4", null, MS_BIND|MS_REC, null) ?report`);
    expect(lines.slice(bind + 1)).toEqual([
      'close(4) ?report',
      openPath('data'),
      'mount(null, "/proc/self/fd/4", null, MS_RDONLY|MS_REMOUNT|MS_BIND, null) ?report',
      'close(4) ?report',
    ]);
    // The remount's fd is the one opened after the bind, not the one the bind went onto.
    const replay = replayFds(steps, ROOTFS_FDS);
    const remount = bind + 3;
    const opener = [...replay.opened].filter(([, fd]) => fd === 4).map(([step]) => step);
    expect(opener.filter((step) => step > bind && step < remount)).toEqual([bind + 2]);
  });

  it('does not remount a bind whose options set no flag ("rw" only clears)', () => {
    const b = bundle();
    const { lines } = plan([{ destination: '/data', type: 'bind', source: b.data, options: ['rw'] }]);
    expect(lines.filter((l) => l.startsWith('mount('))).toEqual([`mount(${JSON.stringify(b.data)}, "/proc/self/fd/4", null, MS_BIND, null) ?report`]);
  });

  it('applies each propagation option as its own mount(2) on a reopened destination', () => {
    const { lines } = plan([{ destination: '/shared', type: 'tmpfs', source: 'tmpfs', options: ['rshared', 'unbindable'] }]);
    expect(lines.slice(lines.indexOf('mount("tmpfs", "/proc/self/fd/4", "tmpfs", 0, null) ?report'))).toEqual([
      'mount("tmpfs", "/proc/self/fd/4", "tmpfs", 0, null) ?report',
      'close(4) ?report',
      openPath('shared'),
      'mount(null, "/proc/self/fd/4", null, MS_REC|MS_SHARED, null) ?report',
      'close(4) ?report',
      openPath('shared'),
      'mount(null, "/proc/self/fd/4", null, MS_UNBINDABLE, null) ?report',
      'close(4) ?report',
    ]);
  });

  it('applies the recursive r* options with one mount_setattr(AT_RECURSIVE) on a reopened destination, after the remount', () => {
    const b = bundle();
    const { lines, steps } = plan([{ destination: '/data', type: 'bind', source: b.data, options: ['rbind', 'nodev', 'rro', 'rsuid', 'rslave'] }]);
    const bind = mustFind(lines, `mount(${JSON.stringify(b.data)}, "/proc/self/fd/4", null, MS_BIND|MS_REC, null) ?report`);
    expect(lines.slice(bind + 1)).toEqual([
      'close(4) ?report',
      openPath('data'),
      'mount(null, "/proc/self/fd/4", null, MS_NODEV|MS_REMOUNT|MS_BIND, null) ?report',
      'close(4) ?report',
      openPath('data'),
      'syscall(SYS_mount_setattr, 4, "", AT_EMPTY_PATH|AT_RECURSIVE, attr{set=0x1, clr=0x2, propagation=0x0, userns_fd=0x0}, 32) ?report',
      'close(4) ?report',
      openPath('data'),
      'mount(null, "/proc/self/fd/4", null, MS_REC|MS_SLAVE, null) ?report',
      'close(4) ?report',
    ]);
    expect(replayFds(steps, ROOTFS_FDS).problems).toEqual([]);
  });

  it('plans no mount_setattr without recursive options', () => {
    const b = bundle();
    const { lines } = plan([{ destination: '/data', type: 'bind', source: b.data, options: ['rbind', 'ro', 'nosuid'] }]);
    expect(lines.filter((l) => l.includes('mount_setattr'))).toEqual([]);
  });

  it('replaces sysfs by a recursive bind of the host /sys in a user namespace that shares the host network namespace', () => {
    const sysfs: Mount = { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro', 'size=1k'] };
    const shared = plan([sysfs], { userns: true, newNetwork: false }).lines;
    expect(shared.filter((l) => l.startsWith('mount('))).toEqual([
      'mount("/sys", "/proc/self/fd/4", null, MS_BIND|MS_REC, null) ?report',
      'mount(null, "/proc/self/fd/4", null, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND, null) ?report',
    ]);
    const sysfsMount = 'mount("sysfs", "/proc/self/fd/4", "sysfs", MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC, "size=1k") ?report';
    expect(plan([sysfs], { userns: true, newNetwork: true }).lines.filter((l) => l.startsWith('mount('))).toEqual([sysfsMount]);
    expect(plan([sysfs], { userns: false, newNetwork: false }).lines.filter((l) => l.startsWith('mount('))).toEqual([sysfsMount]);
  });

  it('replaces a cgroup mount by a bind of the container\'s own cgroup2 directory where cgroup2 cannot be mounted (user namespace, host cgroup namespace)', () => {
    const cgroup: Mount = { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] };
    const bound = plan([cgroup], { userns: true, cgroupV2Bind: '/sys/fs/cgroup/machine/c1' }).lines.filter((l) => l.startsWith('mount('));
    expect(bound).toEqual([
      'mount("/sys/fs/cgroup/machine/c1", "/proc/self/fd/4", null, MS_BIND|MS_REC, null) ?report',
      'mount(null, "/proc/self/fd/4", null, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_RELATIME, null) ?report',
    ]);
    // Elsewhere it stays a cgroup2 mount.
    expect(plan([cgroup], { userns: true }).lines.filter((l) => l.startsWith('mount('))).toEqual([
      'mount("cgroup", "/proc/self/fd/4", "cgroup2", MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_RELATIME, null) ?report',
    ]);
  });

  it('makes the /sys fallback read-only recursively when sysfs is "ro": the remount, then mount_setattr(MOUNT_ATTR_RDONLY, AT_RECURSIVE)', () => {
    const sysfs: Mount = { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] };
    const { lines, steps } = plan([sysfs], { userns: true, newNetwork: false });
    expect(lines).toEqual([
      'mkdirat(3, "sys", 0o755) ?report tolerate=EEXIST',
      openPath('sys'),
      'mount("/sys", "/proc/self/fd/4", null, MS_BIND|MS_REC, null) ?report',
      'close(4) ?report',
      openPath('sys'),
      'mount(null, "/proc/self/fd/4", null, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND, null) ?report',
      'close(4) ?report',
      openPath('sys'),
      'syscall(SYS_mount_setattr, 4, "", AT_EMPTY_PATH|AT_RECURSIVE, attr{set=0x1, clr=0x0, propagation=0x0, userns_fd=0x0}, 32) ?report',
      'close(4) ?report',
    ]);
    const replay = replayFds(steps, ROOTFS_FDS);
    expect(replay.problems).toEqual([]);
    expect(replay.leaked).toEqual(new Map());
  });

  it('adds no recursive read-only to the /sys fallback without "ro", nor to a real sysfs mount', () => {
    const rw: Mount = { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'rw'] };
    expect(plan([rw], { userns: true, newNetwork: false }).lines.filter((l) => l.startsWith('mount(') || l.includes('mount_setattr'))).toEqual([
      'mount("/sys", "/proc/self/fd/4", null, MS_BIND|MS_REC, null) ?report',
      'mount(null, "/proc/self/fd/4", null, MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND, null) ?report',
    ]);
    const ro: Mount = { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'ro'] };
    for (const options of [{ userns: true, newNetwork: true }, { userns: false, newNetwork: false }]) {
      expect(plan([ro], options).lines.filter((l) => l.includes('mount_setattr'))).toEqual([]);
    }
  });

  it('resolves a relative bind source against the bundle', () => {
    const b = bundle();
    const { lines } = plan([{ destination: '/data', type: 'bind', source: 'data' }], { bundle: b.dir });
    mustFind(lines, `mount(${JSON.stringify(b.data)}, "/proc/self/fd/4", null, MS_BIND, null) ?report`);
  });

  it('stats a relative bind source in the bundle to choose file or directory', () => {
    const b = bundle();
    const { lines } = plan([{ destination: '/f', type: 'bind', source: 'file.txt' }], { bundle: b.dir });
    expect(lines[0]).toMatch(/^syscall\(SYS_openat2, 3, "f", how\{O_[A-Z]+\|O_CREAT\|/);
  });

  it('treats a "bind" option as a bind mount whatever the type says', () => {
    const b = bundle();
    const { lines } = plan([{ destination: '/data', type: 'none', source: b.data, options: ['rbind'] }]);
    mustFind(lines, `mount(${JSON.stringify(b.data)}, "/proc/self/fd/4", null, MS_BIND|MS_REC, null) ?report`);
  });

  it('mounts a filesystem with its flags and data in one call', () => {
    const { lines } = plan([{ destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] }]);
    expect(lines).toEqual([
      'mkdirat(3, "dev", 0o755) ?report tolerate=EEXIST',
      openPath('dev'),
      'mount("tmpfs", "/proc/self/fd/4", "tmpfs", MS_NOSUID|MS_STRICTATIME, "mode=755,size=65536k") ?report',
      'close(4) ?report',
    ]);
  });

  it('mounts cgroup2 where config.json asks for "cgroup"', () => {
    const { lines } = plan([{ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] }]);
    mustFind(lines, 'mount("cgroup", "/proc/self/fd/4", "cgroup2", MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_RELATIME, null) ?report');
  });

  it('uses the type as the source when there is none', () => {
    const { lines } = plan([{ destination: '/run', type: 'tmpfs' }]);
    mustFind(lines, 'mount("tmpfs", "/proc/self/fd/4", "tmpfs", 0, null) ?report');
  });

  it('keeps the host mount\'s locked flags on a bind remount in a user namespace', () => {
    const b = bundle();
    const mounts = hostMounts('/ rw,relatime', `${b.dir} rw,nosuid,nodev,noexec,relatime`);
    const flags = (userns: boolean) =>
      plan([{ destination: '/data', type: 'bind', source: b.data, options: ['ro'] }], { userns, hostMounts: mounts }).lines.filter((l) => l.includes('MS_REMOUNT'));
    expect(flags(true)).toEqual(['mount(null, "/proc/self/fd/4", null, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_RELATIME, null) ?report']);
    expect(flags(false)).toEqual(['mount(null, "/proc/self/fd/4", null, MS_RDONLY|MS_REMOUNT|MS_BIND, null) ?report']);
  });

  it('keeps a read-only source mount read-only on a bind remount in a user namespace (the kernel locks MS_RDONLY too)', () => {
    const b = bundle();
    const mounts = hostMounts('/ rw,relatime', `${b.dir} ro,nosuid,relatime`);
    const flags = (userns: boolean, options: string[]) =>
      plan([{ destination: '/data', type: 'bind', source: b.data, options }], { userns, hostMounts: mounts }).lines.filter((l) => l.includes('MS_REMOUNT'));
    // "rw" is not honoured over a read-only source: the remount keeps MS_RDONLY.
    expect(flags(true, ['nodev'])).toEqual(['mount(null, "/proc/self/fd/4", null, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_REMOUNT|MS_BIND|MS_RELATIME, null) ?report']);
    expect(flags(true, ['rw', 'nodev'])).toEqual(['mount(null, "/proc/self/fd/4", null, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_REMOUNT|MS_BIND|MS_RELATIME, null) ?report']);
    expect(flags(true, ['ro'])).toEqual(['mount(null, "/proc/self/fd/4", null, MS_RDONLY|MS_NOSUID|MS_REMOUNT|MS_BIND|MS_RELATIME, null) ?report']);
    // Outside a user namespace nothing is locked: only the configured flags.
    expect(flags(false, ['nodev'])).toEqual(['mount(null, "/proc/self/fd/4", null, MS_NODEV|MS_REMOUNT|MS_BIND, null) ?report']);
    // A read-write source adds no MS_RDONLY.
    const rwMounts = hostMounts('/ rw,relatime', `${b.dir} rw,nosuid,relatime`);
    expect(
      plan([{ destination: '/data', type: 'bind', source: b.data, options: ['nodev'] }], { userns: true, hostMounts: rwMounts }).lines.filter((l) => l.includes('MS_REMOUNT')),
    ).toEqual(['mount(null, "/proc/self/fd/4", null, MS_NOSUID|MS_NODEV|MS_REMOUNT|MS_BIND|MS_RELATIME, null) ?report']);
  });

  it('refuses a bind mount without a source, naming the field', () => {
    expect(() => plan([{ destination: '/x', type: 'tmpfs' }, { destination: '/data', type: 'bind' }])).toThrow('mounts[1].source: a bind mount needs a source');
    expect(() => plan([{ destination: '/data', options: ['bind'], source: '' }])).toThrow('mounts[0].source: a bind mount needs a source');
  });

  it('refuses a bind source that does not exist, naming the field and the path', () => {
    const b = bundle();
    expect(() => plan([{ destination: '/data', type: 'bind', source: 'missing' }], { bundle: b.dir })).toThrow(
      `mounts[0].source: cannot stat ${join(b.dir, 'missing')}`,
    );
  });

  it('refuses a non-bind mount without a type', () => {
    expect(() => plan([{ destination: '/x', source: 'tmpfs' }])).toThrow('mounts[0].type: a non-bind mount needs a filesystem type');
  });

  it('refuses a destination with ".." before planning any step for it', () => {
    const h = rootfsHarness(baseSpec({ mounts: [{ destination: '/a/../../etc', type: 'tmpfs' }] }));
    expect(() => planMounts(h.ctx)).toThrow('mounts[0].destination: /a/../../etc must not contain ".."');
    expect(h.w.steps).toEqual([]);
  });

  it('plans the mounts in config.json order', () => {
    const { lines } = plan([
      { destination: '/one', type: 'tmpfs' },
      { destination: '/two', type: 'proc', source: 'proc' },
      { destination: '/three', type: 'mqueue', source: 'mqueue' },
    ]);
    expect(lines.filter((l) => l.startsWith('mount(')).map((l) => l.split('"')[5])).toEqual(['tmpfs', 'proc', 'mqueue']);
  });

  it('does nothing without mounts', () => {
    const h = rootfsHarness(baseSpec());
    planMounts(h.ctx);
    expect(h.w.steps).toEqual([]);
  });
});
