import { dirname, basename } from 'node:path';
import { AT_SYMLINK_NOFOLLOW, MS, O, S_IFBLK, S_IFCHR, S_IFIFO } from '../../../ffi/constants.js';
import type { LinuxDevice, Spec } from '../../config/types.js';
import { fdPath } from '../../../ffi/path-fd.js';
import { makePath } from './make-path.js';
import type { RootfsContext } from './rootfs-context.js';

/** runtime-spec "Default Devices": every Linux container gets these. */
export const DEFAULT_DEVICES: readonly LinuxDevice[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
];

const DEV_SYMLINKS: ReadonlyArray<[string, string]> = [
  ['fd', '/proc/self/fd'],
  ['stdin', '/proc/self/fd/0'],
  ['stdout', '/proc/self/fd/1'],
  ['stderr', '/proc/self/fd/2'],
  ['core', '/proc/kcore'],
];

/**
 * Device nodes and /dev symlinks, after the mounts. Skipped when /dev is a
 * bind mount of the host's (the operator chose the host's devices).
 */
export function planDevices(ctx: RootfsContext): void {
  const mounts = ctx.spec.mounts ?? [];
  if (devIsHostBind(ctx.spec)) return;
  const byPath = new Map<string, LinuxDevice>();
  for (const device of [...DEFAULT_DEVICES, ...(ctx.spec.linux?.devices ?? [])]) byPath.set(device.path, device);
  for (const device of byPath.values()) planDevice(ctx, device);
  planDevSymlinks(ctx, mounts.some((m) => m.destination === '/dev/pts'));
}

/** Whether /dev is a bind mount (the host's devices): tsrun then creates nothing in it. */
export function devIsHostBind(spec: Spec): boolean {
  return (spec.mounts ?? []).some((m) => m.destination === '/dev' && (m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind')));
}

function planDevice(ctx: RootfsContext, device: LinuxDevice): void {
  const w = ctx.writer;
  const path = device.path;
  if (ctx.userns) {
    // mknod(2) is refused in a user namespace: bind the host's node instead.
    makePath(ctx, path, true, `linux.devices (${path})`);
    const target = w.openInRoot(`open device ${path}`, ctx.rootFd, path, O.PATH);
    w.check(`bind host ${path} for the device`, 'mount', [path, fdPath(target), null, MS.BIND, null]);
    w.close(target);
    return;
  }
  makePath(ctx, dirname(path), false, `linux.devices (${path})`);
  const dir = w.openInRoot(`open ${dirname(path)}`, ctx.rootFd, dirname(path), O.PATH | O.DIRECTORY);
  const name = basename(path);
  // An image may ship a placeholder file where the node goes.
  w.check(`remove existing ${path}`, 'unlinkat', [dir, name, 0], ['ENOENT']);
  w.check(`mknod ${path}`, 'mknodat', [dir, name, deviceMode(device), makedev(device.major ?? 0, device.minor ?? 0)]);
  // Absent uid/gid mean root, as in runc: never the process user, who would
  // otherwise own a raw disk node it was only meant to be given access to.
  w.check(`chown ${path}`, 'fchownat', [dir, name, device.uid ?? 0, device.gid ?? 0, AT_SYMLINK_NOFOLLOW]);
  w.close(dir);
}

function planDevSymlinks(ctx: RootfsContext, hasDevpts: boolean): void {
  const w = ctx.writer;
  const dev = w.openInRoot('open /dev', ctx.rootFd, '/dev', O.PATH | O.DIRECTORY);
  for (const [name, target] of DEV_SYMLINKS) {
    w.check(`symlink /dev/${name}`, 'symlinkat', [target, dev, name], ['EEXIST']);
  }
  if (hasDevpts) {
    // The container's ptmx must be its own devpts instance's.
    w.check('remove /dev/ptmx', 'unlinkat', [dev, 'ptmx', 0], ['ENOENT']);
    w.check('symlink /dev/ptmx to pts/ptmx', 'symlinkat', ['pts/ptmx', dev, 'ptmx']);
  }
  w.close(dev);
}

function deviceMode(device: LinuxDevice): number {
  const types: Record<string, number> = { c: S_IFCHR, u: S_IFCHR, b: S_IFBLK, p: S_IFIFO };
  const type = types[device.type];
  if (type === undefined) throw new Error(`linux.devices ${device.path}: unknown type "${device.type}"`);
  return type | ((device.fileMode ?? 0o666) & 0o7777);
}

/** glibc's makedev(3) encoding of a dev_t. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}
