import { MNT_DETACH, MS } from '../../../ffi/constants.js';
import type { RootfsContext } from './rootfs-context.js';

/**
 * Make the rootfs "/" for the container process. pivot_root(".", ".") stacks
 * the old root on top of the new one; unmounting "." (lazily) then drops the
 * old root without needing a directory for it in the image.
 * With --no-pivot (initramfs, where pivot_root is impossible) the rootfs is
 * moved over "/" and chroot'ed into instead: weaker, as in runc.
 */
export function planPivot(ctx: RootfsContext, noPivot: boolean): void {
  const w = ctx.writer;
  w.check(`fchdir to the rootfs ${ctx.rootfs}`, 'fchdir', [ctx.rootFd]);
  if (noPivot) {
    w.check(`move the rootfs ${ctx.rootfs} over /`, 'mount', ['.', '/', null, MS.MOVE, null]);
    w.check('chroot into the rootfs', 'chroot', ['.']);
  } else {
    w.sys(`pivot_root into ${ctx.rootfs}`, 'pivot_root', ['.', '.']);
    w.check('unmount the old root', 'umount2', ['.', MNT_DETACH]);
  }
  w.check('chdir /', 'chdir', ['/']);
  w.close(ctx.rootFd);
}
