import { MNT_DETACH, O, RESOLVE } from '../../../ffi/constants.js';
import { lastErrno, libc } from '../../../ffi/libc.js';
import { closeFd, fdPath, mountIdOfFd, openat2 } from '../../../ffi/path-fd.js';
import { errnoName, SyscallError } from '../../../ffi/syscall-error.js';
import { readMountInfo } from '../mountinfo.js';

/**
 * A container without its own mount namespace makes its mounts in the
 * host's (the runtime-spec's "inherit the runtime's namespace"). They would
 * outlive it, so the parent notes which ones appeared under the rootfs and
 * takes exactly those down again; never a mount that was there before, such
 * as an engine's overlay mounted on the rootfs itself.
 *
 * The container can change the paths under its rootfs while it runs (rename
 * a directory, put a symlink in its place), so a mount is recorded with its
 * id, and taken down only through an fd that was opened without following
 * any symlink and that the kernel says is on that very mount.
 */
export interface HostMount {
  /** The mount id, as in /proc/self/mountinfo and the mnt_id of /proc/self/fdinfo. */
  readonly id: number;
  /** Its mount point when it was recorded. */
  readonly path: string;
}

/** A recorded mount that was left in place, and why: for the caller to log as a warning. */
export interface SkippedMount extends HostMount {
  readonly reason: string;
}

/**
 * What a create of a container without a mount namespace records before
 * clone: its rootfs and the mounts that existed. A delete that finds no
 * state.json (the create was killed) takes down what appeared under that
 * rootfs since, as the create itself would have on failure.
 */
export interface HostMountsOfCreate {
  readonly rootfs: string;
  readonly before: readonly number[];
}

export function mountIdsNow(): ReadonlySet<number> {
  return new Set(readMountInfo().map((m) => m.id));
}

/** Mounts made since `before` on or under `rootfs`, deepest (and newest) first. */
export function newMountsUnder(rootfs: string, before: ReadonlySet<number>): HostMount[] {
  return readMountInfo()
    .filter((m) => !before.has(m.id) && isWithin(m.mountPoint, rootfs))
    .sort((a, b) => b.mountPoint.length - a.mountPoint.length || b.id - a.id)
    .map((m) => ({ id: m.id, path: m.mountPoint }));
}

/** A path opened without following symlinks: the mount it reached, and a way to detach exactly that mount. */
export interface OpenedMount {
  readonly mountId: number;
  /** Detach the mount the fd is on; undefined when done, else the errno name of a harmless refusal (EINVAL: not a mount's root). */
  detach(): string | undefined;
  close(): void;
}

/** The kernel operations `unmountAll` makes; unit tests replace them. */
export interface MountOps {
  /** Open `path` with no symlink followed anywhere on it, or say why it cannot be (an errno name). */
  open(path: string): OpenedMount | { readonly error: string };
  /** Where mount `id` is mounted now in this namespace, or undefined when it is gone. */
  mountPointOf(id: number): string | undefined;
}

/**
 * Detach each recorded mount, in order (deepest first), but only the mount
 * with the recorded id: its recorded path is opened without following
 * symlinks, and detached through that fd if the fd is on that mount. When
 * the path no longer leads there, the mount is looked up by id (the
 * container may have renamed a directory above it) and its current mount
 * point is tried the same way. A mount already gone is fine. Anything else
 * is left alone and returned, for the caller to warn about.
 */
export function unmountAll(mounts: readonly HostMount[], ops: MountOps = kernelMountOps()): SkippedMount[] {
  const skipped: SkippedMount[] = [];
  const valid = mounts.filter((m) => {
    const ok = typeof m === 'object' && m !== null && Number.isInteger(m.id) && typeof m.path === 'string';
    if (!ok) skipped.push({ id: NaN, path: String(m), reason: 'recorded without a mount id (by an older tsrun): not unmounted, check it by hand' });
    return ok;
  });
  // The rootfs is bound onto itself before any other mount, so the shallowest
  // record is the rootfs: a mount found by id elsewhere is not one of ours (ids are reused).
  const scope = valid.reduce<string | undefined>((top, m) => (top === undefined || m.path.length < top.length ? m.path : top), undefined);
  for (const mount of valid) {
    const atPath = detachIfSame(mount.path, mount.id, ops);
    if (atPath === undefined) continue;
    const now = ops.mountPointOf(mount.id);
    if (now === undefined) continue;
    let reason = atPath;
    if (now !== mount.path) {
      if (scope !== undefined && isWithin(now, scope)) {
        const moved = detachIfSame(now, mount.id, ops);
        if (moved === undefined) continue;
        reason = `${atPath}; at its current mount point: ${moved}`;
      } else {
        reason = `${atPath}; mount ${mount.id} is now at ${now}, outside ${scope ?? 'the rootfs'}, so it may not be ours`;
      }
    }
    skipped.push({ ...mount, reason });
  }
  return skipped;
}

/** Undefined when mount `id` was detached through `path`; else why not. */
function detachIfSame(path: string, id: number, ops: MountOps): string | undefined {
  const opened = ops.open(path);
  if ('error' in opened) return `${path} does not resolve without following symlinks (${opened.error})`;
  try {
    if (opened.mountId !== id) return `${path} leads to mount ${opened.mountId}, not mount ${id}`;
    const refused = opened.detach();
    return refused === undefined ? undefined : `${path}: umount2 ${refused}`;
  } finally {
    opened.close();
  }
}

function isWithin(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`);
}

function kernelMountOps(): MountOps {
  return {
    open(path) {
      let fd: number;
      try {
        fd = openat2(path, O.PATH | O.CLOEXEC, RESOLVE.NO_SYMLINKS);
      } catch (error) {
        if (error instanceof SyscallError) return { error: error.code };
        throw error;
      }
      let mountId: number;
      try {
        mountId = mountIdOfFd(fd);
      } catch (error) {
        closeFd(fd);
        throw error;
      }
      return {
        mountId,
        detach() {
          // umount2 follows the magic link to what the fd holds, not to a name.
          if (libc().umount2(fdPath(fd), MNT_DETACH) === 0) return undefined;
          const errno = lastErrno();
          if (errnoName(errno) === 'EINVAL') return 'EINVAL';
          throw new SyscallError('umount2', errno, `${path} (mount ${mountId})`);
        },
        close() {
          closeFd(fd);
        },
      };
    },
    mountPointOf(id) {
      return readMountInfo().find((m) => m.id === id)?.mountPoint;
    },
  };
}
