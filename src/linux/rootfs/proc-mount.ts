import { statfsSync } from 'node:fs';
import { posix } from 'node:path';
import type { Mount } from '../../config/types.js';
import { resolveInRoot } from '../process/find-executable.js';

const PROC_SUPER_MAGIC = 0x9fa0;

/**
 * The files under /proc that a mount may cover: what lxcfs emulates, as runc
 * allows them. Anything else under /proc stays the kernel's.
 */
const LXCFS_FILES = new Set([
  '/proc/cpuinfo',
  '/proc/diskstats',
  '/proc/meminfo',
  '/proc/stat',
  '/proc/swaps',
  '/proc/uptime',
  '/proc/loadavg',
  '/proc/slabinfo',
  '/proc/net/dev',
  '/proc/sys/kernel/ns_last_pid',
]);

/**
 * Filesystems that a mount may put under /proc, as runc lets them: they
 * hold nothing of the caller's choosing (a bind, or a device, could).
 */
const FRESH_FILESYSTEMS = new Set(['tmpfs', 'proc', 'sysfs', 'mqueue', 'cgroup', 'cgroup2']);

/**
 * A mount must not put something that is not procfs at /proc, nor cover
 * what is under it with files of the caller's choosing: tsrun itself writes
 * and masks there (LSM labels, sysctl, masked paths), and a container whose
 * /proc is a directory of the image's choosing defeats all of that
 * (CVE-2019-16884, CVE-2019-19921 and CVE-2023-27561 were this in runc).
 * The destination is taken as the container will resolve it, symlinks of
 * the image followed, since a symlink is how those attacks reached /proc.
 * Throws, naming the field.
 */
export function checkProcMount(rootfs: string, mount: Mount, field: string, bindSource: string | undefined): void {
  const dest = resolvedDestination(rootfs, mount.destination);
  if (dest !== '/proc' && !dest.startsWith('/proc/')) return;
  const through = dest === posix.normalize(mount.destination) ? '' : ` (${mount.destination} leads there through a symlink of the image)`;
  if (dest === '/proc') {
    if (bindSource === undefined ? mount.type === 'proc' : isProcfs(bindSource)) return;
    throw new Error(`${field}: /proc${through} must be a procfs mount (type "proc", or a bind of one); this one is ${bindSource === undefined ? `type "${mount.type ?? ''}"` : `a bind of ${bindSource}`}`);
  }
  if (LXCFS_FILES.has(dest) || (bindSource === undefined && FRESH_FILESYSTEMS.has(mount.type ?? ''))) return;
  throw new Error(`${field}: ${dest}${through} is inside /proc, which a bind or device mount may not cover (only the files lxcfs emulates, such as /proc/meminfo, may be)`);
}

/** `dest` inside the rootfs with the image's symlinks followed, a missing tail kept as written. */
function resolvedDestination(rootfs: string, dest: string): string {
  return resolveInRoot(rootfs, dest, true)?.inside ?? posix.normalize(dest);
}

function isProcfs(path: string): boolean {
  try {
    return statfsSync(path).type === PROC_SUPER_MAGIC;
  } catch {
    return false;
  }
}
