import { MS, O } from '../../../ffi/constants.js';
import { fdPath } from '../../../ffi/path-fd.js';
import type { RootfsContext } from './rootfs-context.js';

/**
 * A tmpfs mount with "tmpcopyup", as the parent meets it at its "copy-up"
 * checkpoint: two fds of the container process, the directory the tmpfs
 * covers and the tmpfs's root, and the step that says whether the
 * destination was there before the chain made it.
 */
export interface PlannedCopyUp {
  /** The config field, e.g. "mounts[3]", for error messages. */
  readonly field: string;
  readonly destination: string;
  /** fd (O_PATH) of the directory at the destination, now under the tmpfs. */
  readonly covered: number;
  /** fd (O_PATH) of the new tmpfs's root. */
  readonly tmpfs: number;
  /** The mkdirat step of the destination's last component: EEXIST means it existed. */
  readonly createdBy: number | undefined;
}

/**
 * Steps after a "tmpcopyup" tmpfs was mounted onto the fd `covered`: open
 * the new tmpfs, wait at "copy-up" while the parent copies, close both.
 *
 * runc mounts the tmpfs on a scratch directory, copies the destination into
 * it by path and moves the mount into place, because a path can no longer
 * reach a directory once something is mounted over it. An fd can: `covered`
 * was opened (RESOLVE_IN_ROOT) before the mount and still names the image's
 * directory, so the tmpfs goes straight to its destination like any other
 * mount and the parent reads the covered directory through
 * /proc/<pid>/fd/<covered>. The checkpoint comes right after this mount,
 * before the next one: a later mount under the destination (a bind on
 * /run/secrets) must land on the copy, and the copy must never write into it.
 *
 * The tmpfs is mounted writable for the copy; a read-only one is made so
 * here, after the checkpoint, as a remount of this mount alone.
 */
export function planCopyUp(
  ctx: RootfsContext,
  field: string,
  destination: string,
  covered: number,
  createdBy: number | undefined,
  flags: number,
): PlannedCopyUp {
  const w = ctx.writer;
  const tmpfs = w.openInRoot(`open the new tmpfs of ${field} on ${destination}`, ctx.rootFd, destination, O.PATH | O.DIRECTORY);
  w.checkpoint('copy-up');
  w.close(tmpfs);
  w.close(covered);
  if ((flags & MS.RDONLY) !== 0) {
    const top = w.openInRoot(`reopen ${field} destination ${destination}`, ctx.rootFd, destination, O.PATH);
    w.check(`remount ${field} ${destination} read-only after its copy-up`, 'mount', [null, fdPath(top), null, MS.REMOUNT | MS.BIND | flags, null]);
    w.close(top);
  }
  return { field, destination, covered, tmpfs, createdBy };
}
