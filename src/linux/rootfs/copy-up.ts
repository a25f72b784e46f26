import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  type Stats,
} from 'node:fs';
import { withFsIds } from '../../../ffi/fs-ids.js';
import { copyOwnerFor, type CopyOwner } from './copy-owner.js';
import type { PlannedCopyUp } from './plan-copy-up.js';

// libuv adds O_CLOEXEC to every open. A directory opened to be read, never through a symlink at its last component.
const DIRECTORY = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
// A regular file to copy: never through a symlink, and never waiting on a FIFO swapped in.
const REGULAR = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * At a "copy-up" checkpoint, from outside: copy the directory a tmpfs now
 * covers into that tmpfs, as runc does for "tmpcopyup": every entry with
 * its owner (as the container sees it: copy-owner.ts) and mode, set-id
 * bits too; symlinks as symlinks, with their owner; subdirectories
 * recursively. Timestamps are not kept: runc keeps none. The tmpfs root
 * takes the covered directory's mode (as in runc) and owner. A destination
 * the chain had to create (`existed` false) had nothing to copy, and its
 * tmpfs keeps the mode its options gave it (as in runc).
 *
 * Nothing here follows a symlink of the image: both roots are the
 * container process's fds (the covered one resolved RESOLVE_IN_ROOT by the
 * chain), reached through /proc/<pid>/fd, and every name below them is
 * taken one component at a time relative to an fd tsrun holds, with
 * O_NOFOLLOW or lstat. A symlink is read as text and recreated; a
 * directory or file swapped for a symlink mid-copy fails (ELOOP), it never
 * leads the copy out of the rootfs.
 *
 * The writes are made as the container's root (its fsuid/fsgid as the
 * host sees them): in a user namespace the kernel refuses to create files,
 * for a caller it does not map, on a tmpfs that namespace mounted.
 */
export function copyUp(pid: number, planned: PlannedCopyUp, existed: boolean): void {
  if (!existed) return;
  const ids = containerRootIds(pid);
  const owner = copyOwnerFor(pid);
  const at = `${planned.field} (tmpcopyup of ${planned.destination})`;
  const covered = guarded(at, planned.destination, () => openSync(`/proc/${pid}/fd/${planned.covered}`, constants.O_RDONLY | constants.O_DIRECTORY));
  try {
    const tmpfs = guarded(at, planned.destination, () => openSync(`/proc/${pid}/fd/${planned.tmpfs}`, constants.O_RDONLY | constants.O_DIRECTORY));
    try {
      withFsIds(ids.uid, ids.gid, () => {
        copyEntries({ at, owner }, planned.destination, covered, tmpfs);
        // The tmpfs root takes the covered directory's mode but keeps its owner (the container's root), as in runc.
        guarded(at, planned.destination, () => fchmodSync(tmpfs, fstatSync(covered).mode & 0o7777));
      });
    } finally {
      closeSync(tmpfs);
    }
  } finally {
    closeSync(covered);
  }
}

/** What every step of one copy needs: the field for messages, and how owners carry over. */
interface Copy {
  readonly at: string;
  readonly owner: CopyOwner;
}

/** Copy every entry of the directory `from` (an fd) into the empty directory `to`. */
function copyEntries(copy: Copy, path: string, from: number, to: number): void {
  const { at, owner } = copy;
  for (const name of guarded(at, path, () => readdirSync(fdPath(from), { encoding: 'buffer' }))) {
    const where = `${path === '/' ? '' : path}/${name.toString()}`;
    const source = child(from, name);
    const target = child(to, name);
    const st = guarded(at, where, () => lstatSync(source));
    if (st.isSymbolicLink()) {
      guarded(at, where, () => {
        symlinkSync(readlinkSync(source, { encoding: 'buffer' }), target);
        lchownSync(target, ...owner(st.uid, st.gid));
      });
    } else if (st.isDirectory()) {
      // Created private; it gets its owner and mode once its entries are in.
      guarded(at, where, () => mkdirSync(target, 0o700));
      const dir = guarded(at, where, () => openSync(source, DIRECTORY));
      try {
        const made = guarded(at, where, () => openSync(target, DIRECTORY));
        try {
          copyEntries(copy, where, dir, made);
          guarded(at, where, () => takeOwnerAndMode(owner, fstatSync(dir), made));
        } finally {
          closeSync(made);
        }
      } finally {
        closeSync(dir);
      }
    } else if (st.isFile()) {
      copyFile(copy, where, source, target);
    } else {
      throw new Error(
        `${at}: ${where} is a ${kindOf(st)}, which tmpcopyup does not copy (runc fails on it too): remove it from the image, or drop "tmpcopyup"`,
      );
    }
  }
}

function copyFile({ at, owner }: Copy, where: string, source: Buffer, target: Buffer): void {
  const fd = guarded(at, where, () => openSync(source, REGULAR));
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`${at}: ${where} stopped being a regular file while it was copied; try again`);
    guarded(at, where, () => {
      // Through the fd tsrun opened: the name is not walked again.
      copyFileSync(fdPath(fd), target, constants.COPYFILE_EXCL);
      lchownSync(target, ...owner(st.uid, st.gid));
      // After chown, which clears the set-id bits.
      chmodSync(target, st.mode & 0o7777);
    });
  } finally {
    closeSync(fd);
  }
}

function takeOwnerAndMode(owner: CopyOwner, st: Stats, fd: number): void {
  fchownSync(fd, ...owner(st.uid, st.gid));
  fchmodSync(fd, st.mode & 0o7777);
}

/** The fsuid and fsgid of the container's process, as this process sees them. */
function containerRootIds(pid: number): { uid: number; gid: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const fs = (name: string): number => {
    const ids = new RegExp(`^${name}:\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)$`, 'm').exec(status);
    if (ids?.[4] === undefined) throw new Error(`/proc/${pid}/status has no ${name} line with four ids`);
    return Number(ids[4]);
  };
  return { uid: fs('Uid'), gid: fs('Gid') };
}

function fdPath(fd: number): string {
  return `/proc/self/fd/${fd}`;
}

/** The entry `name` (raw bytes, as the directory holds it) of the directory fd `dir`. */
function child(dir: number, name: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${fdPath(dir)}/`), name]);
}

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'FIFO';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'character device';
  return 'block device';
}

/** Run one file operation; a failure names the syscall, the container path and the errno, and what to do. */
function guarded<T>(at: string, where: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e.code === undefined) throw error;
    throw new Error(`${at}: ${e.syscall ?? 'copy'} ${where}: ${e.code}${hint(e.code)}`, { cause: error });
  }
}

function hint(code: string): string {
  switch (code) {
    case 'EOVERFLOW':
      return ': neither its owner nor the overflow id (nobody) is mapped in the container\'s user namespace; map one (linux.uidMappings/gidMappings) or change the owner in the image';
    case 'EPERM':
      return ': tsrun may not give the copy this owner (an unprivileged caller can only give its own ids)';
    case 'ENOSPC':
      return ': the tmpfs is full; raise its size= option';
    case 'ELOOP':
    case 'ENOTDIR':
      return ': the image changed while it was copied; try again';
    default:
      return '';
  }
}
