import { MS } from '../../../ffi/constants.js';
import { lockedFlags, mountContaining } from '../mountinfo.js';
import { propagationFlags } from './mount-options.js';
import type { RootfsContext } from './rootfs-context.js';

// Read-only and masked paths get every restrictive flag: adding flags is
// always allowed, and it keeps a user namespace's locked flags in place.
const READONLY_FLAGS = MS.BIND | MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.REC;

/** After pivot_root: propagation of "/", masked and read-only paths, read-only root. */
export function planFinish(ctx: RootfsContext): void {
  const w = ctx.writer;
  const linux = ctx.spec.linux ?? {};
  if (linux.rootfsPropagation !== undefined) {
    w.check(`set rootfsPropagation ${linux.rootfsPropagation} on /`, 'mount', [null, '/', null, propagationFlags(linux.rootfsPropagation), null]);
  }
  for (const path of linux.maskedPaths ?? []) {
    // Exactly one of these succeeds: /dev/null over a file, an empty
    // read-only tmpfs over a directory; a missing path fails both with ENOENT.
    w.check(`mask ${path} (file)`, 'mount', ['/dev/null', path, null, MS.BIND, null], ['ENOENT', 'ENOTDIR']);
    w.check(`mask ${path} (directory)`, 'mount', ['tmpfs', path, 'tmpfs', MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC, 'size=0'], ['ENOENT', 'ENOTDIR']);
  }
  for (const path of linux.readonlyPaths ?? []) {
    w.check(`bind ${path} for read-only`, 'mount', [path, path, null, MS.BIND | MS.REC, null], ['ENOENT']);
    w.check(`remount ${path} read-only`, 'mount', [null, path, null, READONLY_FLAGS, null], ['ENOENT']);
  }
  if (ctx.spec.root?.readonly === true) {
    const locks = lockedFlags(mountContaining(ctx.hostMounts, ctx.rootfs));
    w.check('remount / read-only (root.readonly)', 'mount', [null, '/', null, MS.BIND | MS.REMOUNT | MS.RDONLY | locks, null]);
  }
}
