import { MNT_DETACH } from '../../../ffi/constants.js';
import { lastErrno, libc } from '../../../ffi/libc.js';
import { errnoName, SyscallError } from '../../../ffi/syscall-error.js';
import { readMountInfo } from '../mountinfo.js';

/**
 * A container without its own mount namespace makes its mounts in the
 * host's (the runtime-spec's "inherit the runtime's namespace"). They would
 * outlive it, so the parent notes which ones appeared under the rootfs and
 * takes exactly those down again; never a mount that was there before, such
 * as an engine's overlay mounted on the rootfs itself.
 */
export function mountIdsNow(): ReadonlySet<number> {
  return new Set(readMountInfo().map((m) => m.id));
}

/** Mount points of mounts made since `before` on or under `rootfs`, deepest (and newest) first. */
export function newMountsUnder(rootfs: string, before: ReadonlySet<number>): string[] {
  return readMountInfo()
    .filter((m) => !before.has(m.id) && (m.mountPoint === rootfs || m.mountPoint.startsWith(`${rootfs}/`)))
    .sort((a, b) => b.mountPoint.length - a.mountPoint.length || b.id - a.id)
    .map((m) => m.mountPoint);
}

/** Detach each mount point in order; one already gone is fine. */
export function unmountAll(mountPoints: readonly string[]): void {
  for (const target of mountPoints) {
    if (libc().umount2(target, MNT_DETACH) !== 0) {
      const errno = lastErrno();
      if (errnoName(errno) !== 'EINVAL' && errnoName(errno) !== 'ENOENT') throw new SyscallError('umount2', errno, target);
    }
  }
}
