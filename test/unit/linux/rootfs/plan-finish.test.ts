import { describe, expect, it } from 'vitest';
import type { Spec } from '../../../../src/config/types.js';
import { planFinish } from '../../../../src/linux/rootfs/plan-finish.js';
import { planPivot } from '../../../../src/linux/rootfs/plan-pivot.js';
import type { MountInfoEntry } from '../../../../src/linux/mountinfo.js';
import { baseSpec, hostMounts, ROOTFS_FDS, rootfsHarness } from '../fixtures.js';
import { render, replayFds } from '../steps.js';

function finish(linux: Spec['linux'], options: { readonly?: boolean; hostMounts?: MountInfoEntry[]; rootfs?: string } = {}): string[] {
  const spec = baseSpec({ linux: { namespaces: [{ type: 'mount' }], ...linux }, root: { path: 'rootfs', readonly: options.readonly ?? false } });
  const h = rootfsHarness(spec, { hostMounts: options.hostMounts ?? [], rootfs: options.rootfs ?? '/srv/bundles/c1/rootfs' });
  planFinish(h.ctx);
  return render(h.w.steps);
}

/** struct mount_attr with attr_set = MOUNT_ATTR_RDONLY (0x1) and nothing else, as steps.ts renders it. */
const RDONLY_ATTR = 'attr{set=0x1, clr=0x0, propagation=0x0, userns_fd=0x0}';

describe('planPivot', () => {
  it('pivots into the rootfs fd, drops the old root lazily, and closes the fd', () => {
    const h = rootfsHarness(baseSpec());
    planPivot(h.ctx, 'pivot');
    expect(render(h.w.steps)).toEqual([
      'fchdir(3) ?report',
      'syscall(SYS_pivot_root, ".", ".") ?report',
      'umount2(".", MNT_DETACH) ?report',
      'chdir("/") ?report',
      'close(3) ?report',
    ]);
    expect(h.fds.has(3)).toBe(false);
    expect(replayFds(h.w.steps, ROOTFS_FDS).problems).toEqual([]);
  });

  it('with --no-pivot moves the rootfs over / and chroots into it, without pivot_root', () => {
    const h = rootfsHarness(baseSpec());
    planPivot(h.ctx, 'move');
    expect(render(h.w.steps)).toEqual([
      'fchdir(3) ?report',
      'mount(".", "/", null, MS_MOVE, null) ?report',
      'chroot(".") ?report',
      'chdir("/") ?report',
      'close(3) ?report',
    ]);
  });

  it('in the host\'s mount namespace only chroots into the rootfs: no pivot_root, no MS_MOVE (either would change the host\'s root)', () => {
    const h = rootfsHarness(baseSpec());
    planPivot(h.ctx, 'chroot');
    expect(render(h.w.steps)).toEqual([
      'fchdir(3) ?report',
      'chroot(".") ?report',
      'chdir("/") ?report',
      'close(3) ?report',
    ]);
    expect(h.fds.has(3)).toBe(false);
    expect(replayFds(h.w.steps, ROOTFS_FDS).problems).toEqual([]);
  });
});

describe('planFinish', () => {
  it('plans nothing when there is nothing to finish', () => {
    expect(finish({})).toEqual([]);
  });

  it('masks a path with /dev/null, else with an empty read-only tmpfs, both tolerating ENOENT and ENOTDIR', () => {
    expect(finish({ maskedPaths: ['/proc/kcore', '/sys/firmware'] })).toEqual([
      'mount("/dev/null", "/proc/kcore", null, MS_BIND, null) ?report tolerate=ENOENT,ENOTDIR',
      'mount("tmpfs", "/proc/kcore", "tmpfs", MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC, "size=0") ?report tolerate=ENOENT,ENOTDIR',
      'mount("/dev/null", "/sys/firmware", null, MS_BIND, null) ?report tolerate=ENOENT,ENOTDIR',
      'mount("tmpfs", "/sys/firmware", "tmpfs", MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC, "size=0") ?report tolerate=ENOENT,ENOTDIR',
    ]);
  });

  it('makes a read-only path a recursive bind of itself, then sets MOUNT_ATTR_RDONLY alone on the whole subtree with mount_setattr', () => {
    expect(finish({ readonlyPaths: ['/proc/sys', '/proc/bus'] })).toEqual([
      'mount("/proc/sys", "/proc/sys", null, MS_BIND|MS_REC, null) ?report tolerate=ENOENT',
      `syscall(SYS_mount_setattr, AT_FDCWD, "/proc/sys", AT_RECURSIVE, ${RDONLY_ATTR}, 32) ?report tolerate=ENOENT`,
      'mount("/proc/bus", "/proc/bus", null, MS_BIND|MS_REC, null) ?report tolerate=ENOENT',
      `syscall(SYS_mount_setattr, AT_FDCWD, "/proc/bus", AT_RECURSIVE, ${RDONLY_ATTR}, 32) ?report tolerate=ENOENT`,
    ]);
  });

  it('never remounts: a read-only path keeps the flags it has (nosuid, nodev, noexec are neither added nor cleared)', () => {
    const lines = finish({ readonlyPaths: ['/proc/sys'], maskedPaths: ['/proc/kcore'] }, { readonly: true });
    expect(lines.filter((l) => l.includes('MS_REMOUNT'))).toEqual([]);
    // attr_clr is 0: mount_setattr changes nothing but MOUNT_ATTR_RDONLY.
    expect(lines.filter((l) => l.startsWith('syscall(SYS_mount_setattr')).map((l) => /attr\{[^}]*\}/.exec(l)?.[0])).toEqual([RDONLY_ATTR, RDONLY_ATTR]);
  });

  it('sets rootfsPropagation on / first', () => {
    const lines = finish({ rootfsPropagation: 'private', maskedPaths: ['/proc/kcore'] });
    expect(lines[0]).toBe('mount(null, "/", null, MS_PRIVATE, null) ?report');
    expect(finish({ rootfsPropagation: 'shared' })).toEqual(['mount(null, "/", null, MS_SHARED, null) ?report']);
  });

  it('makes / read-only with mount_setattr (MOUNT_ATTR_RDONLY, not recursive), checked', () => {
    expect(finish({}, { readonly: true })).toEqual([`syscall(SYS_mount_setattr, AT_FDCWD, "/", 0, ${RDONLY_ATTR}, 32) ?report`]);
  });

  it('makes / read-only the same way whatever flags the host mount of the rootfs has (mount_setattr keeps them, locked ones too)', () => {
    const expected = [`syscall(SYS_mount_setattr, AT_FDCWD, "/", 0, ${RDONLY_ATTR}, 32) ?report`];
    const tables = [
      hostMounts('/ rw,relatime', '/srv rw,nosuid,nodev,noatime', '/srv/bundles/c1/rootfs-other ro,noexec'),
      hostMounts('/ rw,relatime', '/srv rw,nosuid', '/srv/bundles/c1/rootfs rw,nodev', '/srv/bundles/c1/rootfs rw,noexec,relatime'),
      [],
    ];
    for (const mounts of tables) expect(finish({}, { readonly: true, hostMounts: mounts })).toEqual(expected);
  });

  it('leaves / writable without root.readonly', () => {
    expect(finish({ readonlyPaths: ['/proc/sys'] }, { readonly: false }).filter((l) => l.includes('"/"'))).toEqual([]);
  });

  it('orders: propagation, masked paths, read-only paths, read-only root', () => {
    const lines = finish(
      { rootfsPropagation: 'slave', maskedPaths: ['/proc/acpi'], readonlyPaths: ['/proc/bus'] },
      { readonly: true, hostMounts: hostMounts('/ rw') },
    );
    expect(
      lines.map((l) => l.replace(/^mount\(([^,]*), ("[^"]*").*$/, 'mount $1 $2').replace(/^syscall\(SYS_mount_setattr, AT_FDCWD, ("[^"]*").*$/, 'mount_setattr $1')),
    ).toEqual([
      'mount null "/"',
      'mount "/dev/null" "/proc/acpi"',
      'mount "tmpfs" "/proc/acpi"',
      'mount "/proc/bus" "/proc/bus"',
      'mount_setattr "/proc/bus"',
      'mount_setattr "/"',
    ]);
  });
});
