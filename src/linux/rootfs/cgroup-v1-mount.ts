import { join } from 'node:path';
import { MS, O } from '../../../ffi/constants.js';
import { fdPath } from '../../../ffi/path-fd.js';
import type { Mount } from '../../config/types.js';
import { lockedFlags, mountContaining } from '../mountinfo.js';
import { makePath } from './make-path.js';
import { parseMountOptions } from './mount-options.js';
import type { RootfsContext } from './rootfs-context.js';

/** Flags every part of the view gets, whatever the mount asks. */
const SAFE = MS.NOSUID | MS.NODEV | MS.NOEXEC;

/**
 * A "cgroup" mount on a host whose controllers live in cgroup v1, as runc
 * gives it: a tmpfs at the destination holding one directory per hierarchy
 * ("cpu,cpuacct", "memory", "systemd" for name=systemd; not a hybrid host's
 * cgroup2 tree, which runc leaves out too), each a bind of the container's own cgroup in
 * that hierarchy, so the container sees its limits at the usual paths and
 * never the host's tree; a co-mounted hierarchy also gets one symlink per
 * controller (cpu → cpu,cpuacct). The binds are made from the host's paths
 * before pivot_root. `dirs` is the placement the cgroup driver planned; a
 * container that got no cgroup (rootless without delegation) finds its
 * directories empty. "ro" makes every part read-only.
 */
export function planCgroupV1Mount(ctx: RootfsContext, mount: Mount, field: string, dirs: Readonly<Record<string, string>>): void {
  const w = ctx.writer;
  const dest = mount.destination;
  const readOnly = parseMountOptions(mount.options).flags & MS.RDONLY;
  makePath(ctx, dest, false, `${field}.destination`);
  const target = w.openInRoot(`open ${field} destination ${dest}`, ctx.rootFd, dest, O.PATH);
  w.check(`mount ${field}: tmpfs for the cgroup v1 hierarchies on ${dest}`, 'mount', ['tmpfs', fdPath(target), 'tmpfs', SAFE, 'mode=755']);
  w.close(target);
  for (const [hierarchy, dir] of Object.entries(dirs)) {
    if (hierarchy === '') continue;
    const name = hierarchy.replace(/^name=/, '');
    const sub = join(dest, name);
    makePath(ctx, sub, false, `${field}.destination`);
    const at = w.openInRoot(`open ${sub}`, ctx.rootFd, sub, O.PATH);
    // ENOENT: no cgroup was made for the container (an unprivileged caller without delegation).
    w.check(`mount ${field}: bind the container's cgroup ${dir} on ${sub}`, 'mount', [dir, fdPath(at), null, MS.BIND, null], ['ENOENT']);
    w.close(at);
    const top = w.openInRoot(`reopen ${sub}`, ctx.rootFd, sub, O.PATH);
    // A user namespace may not drop the flags the host's mount has (its atime flags). EINVAL:
    // nothing was bound (ENOENT above), so there is no mount to remount.
    const locked = ctx.userns ? lockedFlags(mountContaining(ctx.hostMounts, dir)) : 0;
    w.check(`remount ${sub} nosuid, nodev, noexec${readOnly ? ', read-only' : ''}`, 'mount', [null, fdPath(top), null, MS.REMOUNT | MS.BIND | SAFE | readOnly | locked, null], ['EINVAL']);
    w.close(top);
    const controllers = name.split(',');
    if (controllers.length > 1) {
      const parent = w.openInRoot(`open ${dest}`, ctx.rootFd, dest, O.PATH | O.DIRECTORY);
      for (const controller of controllers) w.check(`symlink ${join(dest, controller)} to ${name}`, 'symlinkat', [name, parent, controller], ['EEXIST']);
      w.close(parent);
    }
  }
  if (readOnly !== 0) {
    const top = w.openInRoot(`reopen ${dest}`, ctx.rootFd, dest, O.PATH);
    w.check(`remount ${field} ${dest} read-only`, 'mount', [null, fdPath(top), null, MS.REMOUNT | SAFE | MS.RDONLY, 'mode=755']);
    w.close(top);
  }
}
