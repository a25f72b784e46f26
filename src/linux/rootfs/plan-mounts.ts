import { statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { AT_EMPTY_PATH, AT_RECURSIVE, MS, O } from '../../../ffi/constants.js';
import type { Mount } from '../../config/types.js';
import { fdPath } from '../../../ffi/path-fd.js';
import { lockedFlags, mountContaining } from '../mountinfo.js';
import { planCgroupV1Mount } from './cgroup-v1-mount.js';
import { makePath } from './make-path.js';
import { checkProcMount } from './proc-mount.js';
import { labelledMountData, planMqueueLabel } from './mount-label.js';
import { parseMountOptions } from './mount-options.js';
import { planCopyUp, type PlannedCopyUp } from './plan-copy-up.js';
import type { RootfsContext } from './rootfs-context.js';

// struct mount_attr: attr_set, attr_clr, propagation, userns_fd (u64 each).
const MOUNT_ATTR_SIZE = 32;

/**
 * Steps for every entry of config.json `mounts`, in order, before
 * pivot_root; returns the "tmpcopyup" mounts, one "copy-up" checkpoint each.
 */
export function planMounts(ctx: RootfsContext): PlannedCopyUp[] {
  return (ctx.spec.mounts ?? []).flatMap((mount, i) => planMount(ctx, mount, `mounts[${i}]`) ?? []);
}

function planMount(ctx: RootfsContext, configured: Mount, field: string): PlannedCopyUp | undefined {
  if (configured.type === 'cgroup' && ctx.cgroupV1Dirs !== undefined) {
    planCgroupV1Mount(ctx, configured, field, ctx.cgroupV1Dirs);
    return undefined;
  }
  const cgroupBind = configured.type === 'cgroup' && ctx.cgroupV2Bind !== undefined;
  const mount = cgroupBind ? cgroup2Bind(configured, ctx.cgroupV2Bind as string) : sysfsFallback(ctx, configured);
  const options = parseMountOptions(mount.options);
  const isBind = mount.type === 'bind' || options.bind;
  if (options.copyUp && (isBind || mount.type !== 'tmpfs')) {
    throw new Error(`${field}.options: "tmpcopyup" fills a new tmpfs with the directory it covers; it needs "type": "tmpfs", not ${isBind ? 'a bind mount' : `"${mount.type}"`} (drop the option)`);
  }
  const w = ctx.writer;
  const dest = mount.destination;
  const source = isBind ? bindSource(ctx, mount, field) : (mount.source ?? mount.type ?? 'none');
  checkProcMount(ctx.rootfs, mount, field, isBind ? source : undefined);
  // The container's cgroup is made at checkpoint "spawned", after this plan: a directory not there yet.
  const createdBy = makePath(ctx, dest, isBind && !cgroupBind && !isDirectory(source, field), `${field}.destination`);

  const target = w.openInRoot(`open ${field} destination ${dest}`, ctx.rootFd, dest, O.PATH);
  const type = isBind ? undefined : filesystemType(mount.type, field);
  if (type === undefined) {
    const flags = MS.BIND | (options.recursive ? MS.REC : 0);
    w.check(`mount ${field}: bind ${source} on ${dest}`, 'mount', [source, fdPath(target), null, flags, null]);
  } else {
    const data = labelledMountData(type, options.data, ctx.mountLabel);
    // A copy-up writes into the tmpfs first: it turns read-only after (plan-copy-up.ts).
    const flags = options.copyUp ? options.flags & ~MS.RDONLY : options.flags;
    w.check(`mount ${field}: ${type} on ${dest}`, 'mount', [source, fdPath(target), type, flags, data || null]);
  }
  const copyUp = options.copyUp ? planCopyUp(ctx, field, dest, target, createdBy, options.flags) : undefined;
  if (copyUp === undefined) w.close(target);
  if (type !== undefined) planMqueueLabel(ctx, type, dest, field);

  // A bind mount takes its flags only on a remount of the new mount, and
  // propagation is a separate call: both need the new mount, so reopen dest.
  const remountFlags = isBind ? options.flags | inheritedLocks(ctx, source) : 0;
  if (isBind && options.flags !== 0) {
    const top = w.openInRoot(`reopen ${field} destination ${dest}`, ctx.rootFd, dest, O.PATH);
    w.check(`remount ${field} ${dest} with its options`, 'mount', [null, fdPath(top), null, MS.REMOUNT | MS.BIND | remountFlags, null]);
    w.close(top);
  }
  if (options.recursiveSet !== 0 || options.recursiveClear !== 0) {
    const top = w.openInRoot(`reopen ${field} destination ${dest}`, ctx.rootFd, dest, O.PATH);
    const attr = Buffer.alloc(MOUNT_ATTR_SIZE);
    attr.writeBigUInt64LE(BigInt(options.recursiveSet), 0);
    attr.writeBigUInt64LE(BigInt(options.recursiveClear), 8);
    w.sys(`mount_setattr ${field} ${dest} (recursive options)`, 'mount_setattr', [top, '', AT_EMPTY_PATH | AT_RECURSIVE, attr, MOUNT_ATTR_SIZE]);
    w.close(top);
  }
  for (const propagation of options.propagation) {
    const top = w.openInRoot(`reopen ${field} destination ${dest}`, ctx.rootFd, dest, O.PATH);
    w.check(`set propagation of ${field} ${dest}`, 'mount', [null, fdPath(top), null, propagation, null]);
    w.close(top);
  }
  return copyUp;
}

/**
 * A new sysfs needs CAP_SYS_ADMIN over the network namespace's owner: a
 * user-namespaced container that shares the host's network namespace cannot
 * mount one. As runc does, it gets a recursive bind of the host's /sys.
 */
function sysfsFallback(ctx: RootfsContext, mount: Mount): Mount {
  if (mount.type !== 'sysfs' || !ctx.userns || ctx.newNetwork) return mount;
  const keep = (mount.options ?? []).filter((o) => ['ro', 'rw', 'nosuid', 'nodev', 'noexec'].includes(o));
  // "ro" must reach /sys's submounts too (cgroup, debugfs, ...): add its recursive form.
  const recursive = keep.includes('ro') ? ['rro'] : [];
  return { ...mount, type: 'bind', source: '/sys', options: ['rbind', ...keep, ...recursive] };
}

/**
 * Mounting cgroup2 needs CAP_SYS_ADMIN over the cgroup namespace's owner (a
 * user-namespaced container that shares the host's cgroup namespace cannot
 * mount one), and fails over the host's cgroup2 (a /sys bound from the host,
 * without a network namespace). As runc does, such a container gets a bind
 * of its own cgroup instead, never the host's whole tree; the mount's own
 * flags (ro, nosuid, ...) still apply.
 */
function cgroup2Bind(mount: Mount, dir: string): Mount {
  const keep = (mount.options ?? []).filter((o) => ['ro', 'rw', 'nosuid', 'nodev', 'noexec', 'relatime', 'noatime'].includes(o));
  return { ...mount, type: 'bind', source: dir, options: ['rbind', ...keep] };
}

function bindSource(ctx: RootfsContext, mount: Mount, field: string): string {
  if (mount.source === undefined || mount.source === '') throw new Error(`${field}.source: a bind mount needs a source`);
  return isAbsolute(mount.source) ? mount.source : join(ctx.bundle, mount.source);
}

function isDirectory(source: string, field: string): boolean {
  try {
    return statSync(source).isDirectory();
  } catch (error) {
    throw new Error(`${field}.source: cannot stat ${source}: ${(error as Error).message}`);
  }
}

/**
 * On a cgroup v2 host a container gets the cgroup v2 view: a "cgroup" mount
 * request becomes cgroup2, as runc and crun do there. (On a v1 host it is
 * planned by planCgroupV1Mount.)
 */
function filesystemType(type: string | undefined, field: string): string {
  if (type === undefined || type === '') throw new Error(`${field}.type: a non-bind mount needs a filesystem type`);
  return type === 'cgroup' ? 'cgroup2' : type;
}

/** Flags that a user namespace may not drop when remounting a bind of `source`. */
function inheritedLocks(ctx: RootfsContext, source: string): number {
  if (!ctx.userns) return 0;
  // A read-only source stays read-only: a user namespace cannot lift that either.
  return lockedFlags(mountContaining(ctx.hostMounts, source));
}
