import { describe, expect, it } from 'vitest';
import type { Spec } from '../../../src/config/types.js';
import { planFinish } from '../../../src/linux/rootfs/plan-finish.js';
import { planPivot } from '../../../src/linux/rootfs/plan-pivot.js';
import type { MountInfoEntry } from '../../../src/linux/mountinfo.js';
import { baseSpec, hostMounts, ROOTFS_FDS, rootfsHarness } from './fixtures.js';
import { render, replayFds } from './steps.js';

function finish(linux: Spec['linux'], options: { readonly?: boolean; hostMounts?: MountInfoEntry[]; rootfs?: string } = {}): string[] {
  const spec = baseSpec({ linux: { namespaces: [{ type: 'mount' }], ...linux }, root: { path: 'rootfs', readonly: options.readonly ?? false } });
  const h = rootfsHarness(spec, { hostMounts: options.hostMounts ?? [], rootfs: options.rootfs ?? '/srv/bundles/c1/rootfs' });
  planFinish(h.ctx);
  return render(h.w.steps);
}

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

  it('makes a read-only path a bind of itself, then remounts it read-only with every restrictive flag', () => {
    expect(finish({ readonlyPaths: ['/proc/sys'] })).toEqual([
      'mount("/proc/sys", "/proc/sys", null, MS_BIND|MS_REC, null) ?report tolerate=ENOENT',
      'mount(null, "/proc/sys", null, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_REC, null) ?report tolerate=ENOENT',
    ]);
  });

  it('sets rootfsPropagation on / first', () => {
    const lines = finish({ rootfsPropagation: 'private', maskedPaths: ['/proc/kcore'] });
    expect(lines[0]).toBe('mount(null, "/", null, MS_PRIVATE, null) ?report');
    expect(finish({ rootfsPropagation: 'shared' })).toEqual(['mount(null, "/", null, MS_SHARED, null) ?report']);
  });

  it('remounts / read-only keeping the locked flags of the host mount that holds the rootfs', () => {
    const mounts = hostMounts('/ rw,relatime', '/srv rw,nosuid,nodev,noatime', '/srv/bundles/c1/rootfs-other ro,noexec');
    expect(finish({}, { readonly: true, hostMounts: mounts })).toEqual([
      'mount(null, "/", null, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_REMOUNT|MS_NOATIME|MS_BIND, null) ?report',
    ]);
  });

  it('takes the deepest (and, for a mount point mounted over, the last) host mount', () => {
    const mounts = hostMounts('/ rw,relatime', '/srv rw,nosuid', '/srv/bundles/c1/rootfs rw,nodev', '/srv/bundles/c1/rootfs rw,noexec,relatime');
    expect(finish({}, { readonly: true, hostMounts: mounts })).toEqual([
      'mount(null, "/", null, MS_RDONLY|MS_NOEXEC|MS_REMOUNT|MS_BIND|MS_RELATIME, null) ?report',
    ]);
  });

  it('remounts / read-only with no extra flag when the host table says nothing', () => {
    expect(finish({}, { readonly: true })).toEqual(['mount(null, "/", null, MS_RDONLY|MS_REMOUNT|MS_BIND, null) ?report']);
  });

  it('orders: propagation, masked paths, read-only paths, read-only root', () => {
    const lines = finish(
      { rootfsPropagation: 'slave', maskedPaths: ['/proc/acpi'], readonlyPaths: ['/proc/bus'] },
      { readonly: true, hostMounts: hostMounts('/ rw') },
    );
    expect(lines.map((l) => l.replace(/^mount\(([^,]*), ("[^"]*").*$/, '$1 $2'))).toEqual([
      'null "/"',
      '"/dev/null" "/proc/acpi"',
      '"tmpfs" "/proc/acpi"',
      '"/proc/bus" "/proc/bus"',
      'null "/proc/bus"',
      'null "/"',
    ]);
  });
});
