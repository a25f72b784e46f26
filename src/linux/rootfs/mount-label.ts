import { O } from '../../../ffi/constants.js';
import { fdPath } from '../../../ffi/path-fd.js';
import type { RootfsContext } from './rootfs-context.js';

/**
 * Filesystems that do not take linux.mountLabel as a `context=` option:
 * proc, sysfs and cgroup keep the labels the policy gives them (a
 * context= would relabel every file, and sysfs's superblock, shared with
 * the host, refuses it); mqueue's superblock exists before the mount (the
 * kernel creates it with the IPC namespace), so it is labelled afterwards.
 * The same choices as runc's.
 */
const UNLABELLED = new Set(['proc', 'sysfs', 'cgroup', 'cgroup2', 'mqueue']);

/** The mount's data with linux.mountLabel as `context="…"` (quoted: a context holds commas). */
export function labelledMountData(type: string, data: string, mountLabel: string | undefined): string {
  if (mountLabel === undefined || UNLABELLED.has(type)) return data;
  const context = `context="${mountLabel}"`;
  return data === '' ? context : `${data},${context}`;
}

/** An mqueue mount gets the label on its root directory, through the new mount's fd. */
export function planMqueueLabel(ctx: RootfsContext, type: string, dest: string, field: string): void {
  if (ctx.mountLabel === undefined || type !== 'mqueue') return;
  const w = ctx.writer;
  const top = w.openInRoot(`reopen ${field} destination ${dest}`, ctx.rootFd, dest, O.PATH);
  w.check(`label ${field} ${dest} with linux.mountLabel (setxattr security.selinux)`, 'setxattr', [
    fdPath(top),
    'security.selinux',
    ctx.mountLabel,
    Buffer.byteLength(ctx.mountLabel),
    0,
  ]);
  w.close(top);
}
