import { MNT_DETACH, MS } from '../../../ffi/constants.js';
import type { RootfsContext } from './rootfs-context.js';

/** How the rootfs becomes "/": pivot_root, MS_MOVE + chroot (--no-pivot), or chroot alone. */
export type RootSwitch = 'pivot' | 'move' | 'chroot';

/**
 * Make the rootfs "/" for the container process. pivot_root(".", ".") stacks
 * the old root on top of the new one; unmounting "." (lazily) then drops the
 * old root without needing a directory for it in the image.
 * With --no-pivot (initramfs, where pivot_root is impossible) the rootfs is
 * moved over "/" and chroot'ed into instead: weaker, as in runc. In the
 * host's mount namespace only a chroot is possible: moving or pivoting
 * would change the host's own root.
 */
export function planPivot(ctx: RootfsContext, how: RootSwitch): void {
  const w = ctx.writer;
  w.check(`fchdir to the rootfs ${ctx.rootfs}`, 'fchdir', [ctx.rootFd]);
  if (how === 'move') w.check(`move the rootfs ${ctx.rootfs} over /`, 'mount', ['.', '/', null, MS.MOVE, null]);
  if (how === 'pivot') {
    w.sys(`pivot_root into ${ctx.rootfs}`, 'pivot_root', ['.', '.']);
    w.check('unmount the old root', 'umount2', ['.', MNT_DETACH]);
  } else {
    w.check('chroot into the rootfs', 'chroot', ['.']);
  }
  w.check('chdir /', 'chdir', ['/']);
  w.close(ctx.rootFd);
}
