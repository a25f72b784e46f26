import { describe, expect, it } from 'vitest';
import { type HostMount, type MountOps, unmountAll } from '../../../../src/linux/rootfs/host-mounts.js';

const ROOTFS = '/b/rootfs';

/**
 * A model of the host's mount namespace as unmountAll sees it: what each
 * path leads to when opened without following symlinks (a mount id, or the
 * errno openat2 gives), and where each mount is now. Detaching through an
 * fd takes exactly the mount the fd is on; every detach is recorded.
 */
function namespace(paths: Record<string, number | string>, mountPoints: Record<number, string>) {
  const detached: number[] = [];
  const opened: string[] = [];
  let openFds = 0;
  const ops: MountOps = {
    open(path) {
      opened.push(path);
      const target = paths[path];
      if (target === undefined) return { error: 'ENOENT' };
      if (typeof target === 'string') return { error: target };
      openFds += 1;
      return {
        mountId: target,
        detach() {
          detached.push(target);
          delete mountPoints[target];
          return undefined;
        },
        close() {
          openFds -= 1;
        },
      };
    },
    mountPointOf: (id) => mountPoints[id],
  };
  return { ops, detached, opened, openFds: () => openFds };
}

const recorded: HostMount[] = [
  { id: 105, path: `${ROOTFS}/data/inner` },
  { id: 104, path: `${ROOTFS}/dev/pts` },
  { id: 103, path: `${ROOTFS}/proc` },
  { id: 102, path: `${ROOTFS}/dev` },
  { id: 101, path: ROOTFS },
];

describe('unmountAll', () => {
  it('detaches each recorded mount through its own path when the path still leads to that mount', () => {
    const ns = namespace(
      Object.fromEntries(recorded.map((m) => [m.path, m.id])),
      Object.fromEntries(recorded.map((m) => [m.id, m.path])),
    );
    expect(unmountAll(recorded, ns.ops)).toEqual([]);
    expect(ns.detached).toEqual([105, 104, 103, 102, 101]);
    expect(ns.openFds()).toBe(0);
  });

  it('never detaches the mount a swapped-in symlink leads to; finds the renamed mount by id and detaches it there', () => {
    // The container renamed /data to /data.old and put a symlink to a host directory at /data:
    // openat2(RESOLVE_NO_SYMLINKS) refuses the old path, the mount now lives under /data.old.
    const ns = namespace(
      { [`${ROOTFS}/data/inner`]: 'ELOOP', [`${ROOTFS}/data.old/inner`]: 105, [ROOTFS]: 101 },
      { 105: `${ROOTFS}/data.old/inner`, 101: ROOTFS, 7: '/host/target/inner' },
    );
    expect(unmountAll([recorded[0]!, recorded[4]!], ns.ops)).toEqual([]);
    expect(ns.detached).toEqual([105, 101]);
    expect(ns.opened).toEqual([`${ROOTFS}/data/inner`, `${ROOTFS}/data.old/inner`, ROOTFS]);
  });

  it('leaves a path that leads to another mount alone and reports it', () => {
    // Something else is on top of the recorded mount point now.
    const ns = namespace({ [`${ROOTFS}/proc`]: 9, [ROOTFS]: 101 }, { 103: `${ROOTFS}/proc`, 9: `${ROOTFS}/proc`, 101: ROOTFS });
    const skipped = unmountAll([recorded[2]!, recorded[4]!], ns.ops);
    expect(ns.detached).toEqual([101]);
    expect(skipped).toEqual([{ id: 103, path: `${ROOTFS}/proc`, reason: `${ROOTFS}/proc leads to mount 9, not mount 103` }]);
  });

  it('reports a moved mount whose new place does not resolve without symlinks either', () => {
    const ns = namespace(
      { [`${ROOTFS}/data/inner`]: 'ELOOP', [`${ROOTFS}/x/inner`]: 'ELOOP', [ROOTFS]: 101 },
      { 105: `${ROOTFS}/x/inner`, 101: ROOTFS },
    );
    const skipped = unmountAll([recorded[0]!, recorded[4]!], ns.ops);
    expect(ns.detached).toEqual([101]);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatchObject({ id: 105, path: `${ROOTFS}/data/inner` });
    expect(skipped[0]?.reason).toMatch(/does not resolve without following symlinks \(ELOOP\); at its current mount point: .*x\/inner does not resolve/);
  });

  it('does not chase a recorded id to a mount outside the rootfs: mount ids are reused', () => {
    // The container's mount is gone; a new host mount got its id.
    const ns = namespace({ [`${ROOTFS}/data/inner`]: 101, [ROOTFS]: 101, '/var/lib/other': 105 }, { 105: '/var/lib/other', 101: ROOTFS });
    const skipped = unmountAll([recorded[0]!, recorded[4]!], ns.ops);
    expect(ns.detached).toEqual([101]);
    expect(ns.opened).not.toContain('/var/lib/other');
    expect(skipped[0]?.reason).toMatch(/mount 105 is now at \/var\/lib\/other, outside \/b\/rootfs/);
  });

  it('takes a mount that is gone (a path that no longer resolves, an id no longer mounted) as done', () => {
    const ns = namespace({}, {});
    expect(unmountAll(recorded, ns.ops)).toEqual([]);
    expect(ns.detached).toEqual([]);
  });

  it('detaches stacked mounts on one path newest first, each only when it is the one on top', () => {
    const paths: Record<string, number> = { [`${ROOTFS}/dev`]: 202 };
    const mountPoints: Record<number, string> = { 202: `${ROOTFS}/dev`, 201: `${ROOTFS}/dev` };
    const ns = namespace(paths, mountPoints);
    const detach = ns.ops.open;
    ns.ops.open = (path) => {
      const opened = detach(path);
      if ('error' in opened) return opened;
      return { ...opened, detach: () => { const r = opened.detach(); paths[path] = 201; return r; } };
    };
    expect(unmountAll([{ id: 202, path: `${ROOTFS}/dev` }, { id: 201, path: `${ROOTFS}/dev` }], ns.ops)).toEqual([]);
    expect(ns.detached).toEqual([202, 201]);
  });

  it('reports a record written without a mount id (an older state.json) instead of unmounting by path', () => {
    const ns = namespace({ [`${ROOTFS}/proc`]: 103 }, { 103: `${ROOTFS}/proc` });
    const skipped = unmountAll([`${ROOTFS}/proc` as unknown as HostMount], ns.ops);
    expect(ns.detached).toEqual([]);
    expect(skipped[0]?.reason).toMatch(/without a mount id/);
  });
});
