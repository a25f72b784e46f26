import { AT_FDCWD, AT_RECURSIVE, MS } from '../../../ffi/constants.js';
import { MOUNT_ATTR, propagationFlags } from './mount-options.js';
import { labelledMountData } from './mount-label.js';
import type { RootfsContext } from './rootfs-context.js';

// struct mount_attr { attr_set, attr_clr, propagation, userns_fd }: set
// MOUNT_ATTR_RDONLY and nothing else, so a mount keeps its other flags
// (and a user namespace's locked ones) as they are.
function readOnlyAttr(): Buffer {
  const attr = Buffer.alloc(32);
  attr.writeBigUInt64LE(BigInt(MOUNT_ATTR.RDONLY), 0);
  return attr;
}

/** After pivot_root: propagation of "/", masked and read-only paths, read-only root. */
export function planFinish(ctx: RootfsContext): void {
  const w = ctx.writer;
  const linux = ctx.spec.linux ?? {};
  if (linux.rootfsPropagation !== undefined) {
    w.check(`set rootfsPropagation ${linux.rootfsPropagation} on /`, 'mount', [null, '/', null, propagationFlags(linux.rootfsPropagation), null]);
  }
  // Both steps tolerate ENOENT, so a missing /dev/null would pass for a
  // missing path: the parent checks at "ready" that every masked path that
  // exists is really covered (verify-masks.ts).
  for (const [i, path] of (linux.maskedPaths ?? []).entries()) {
    // Exactly one of these succeeds: /dev/null over a file, an empty
    // read-only tmpfs over a directory; a missing path fails both with ENOENT.
    w.check(`linux.maskedPaths[${i}]: mask ${path} (file)`, 'mount', ['/dev/null', path, null, MS.BIND, null], ['ENOENT', 'ENOTDIR']);
    const data = labelledMountData('tmpfs', 'size=0', ctx.mountLabel);
    w.check(`linux.maskedPaths[${i}]: mask ${path} (directory)`, 'mount', ['tmpfs', path, 'tmpfs', MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC, data], ['ENOENT', 'ENOTDIR']);
  }
  for (const [i, path] of (linux.readonlyPaths ?? []).entries()) {
    w.check(`linux.readonlyPaths[${i}]: bind ${path} for read-only`, 'mount', [path, path, null, MS.BIND | MS.REC, null], ['ENOENT']);
    w.sys(`linux.readonlyPaths[${i}]: make ${path} read-only (recursively)`, 'mount_setattr', [AT_FDCWD, path, AT_RECURSIVE, readOnlyAttr(), 32], ['ENOENT']);
  }
  if (ctx.spec.root?.readonly === true) {
    w.sys('make / read-only (root.readonly)', 'mount_setattr', [AT_FDCWD, '/', 0, readOnlyAttr(), 32]);
  }
}
