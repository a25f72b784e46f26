import { PR, SECBIT_NO_SETUID_FIXUP } from './constants.js';
import { lastErrno, libc } from './libc.js';
import { SyscallError } from './syscall-error.js';
import { SYS } from './syscall-numbers.js';

/**
 * Run `fn` with the filesystem uid and gid of Node's main thread set to
 * `uid`/`gid`, then set them back. The kernel refuses (EOVERFLOW) to create
 * a file in a filesystem mounted inside a user namespace for a caller whose
 * fsuid or fsgid that namespace does not map: the host's root must act as
 * the container's root to write into a tmpfs the container mounted.
 *
 * Only the calling thread changes (synchronous node:fs calls run on it; the
 * libuv pool threads keep their credentials). SECBIT_NO_SETUID_FIXUP keeps
 * the capabilities that a move of the fsuid away from 0 would otherwise drop
 * (CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER...), which the copy still needs.
 * A change of fsuid also makes the process non-dumpable; that is undone too,
 * so tsrun's own /proc files keep their owner.
 */
export function withFsIds<T>(uid: number, gid: number, fn: () => T): T {
  const c = libc();
  const fsuid = setfsuid(-1);
  const fsgid = setfsgid(-1);
  if (fsuid === uid && fsgid === gid) return fn();
  const dumpable = c.prctl(PR.GET_DUMPABLE, 0, 0, 0, 0);
  const bits = c.prctl(PR.GET_SECUREBITS, 0, 0, 0, 0);
  if (bits < 0) throw new SyscallError('prctl(PR_GET_SECUREBITS)', lastErrno());
  if (c.prctl(PR.SET_SECUREBITS, bits | SECBIT_NO_SETUID_FIXUP, 0, 0, 0) !== 0) {
    throw new SyscallError('prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP)', lastErrno(), undefined, 'tsrun needs CAP_SETPCAP to act as the container root on its filesystems');
  }
  try {
    setfsgid(gid);
    setfsuid(uid);
    // setfsuid(2) reports no error: read the ids back.
    if (setfsuid(-1) !== uid || setfsgid(-1) !== gid) throw new Error(`setfsuid/setfsgid: the kernel refused fsuid ${uid}, fsgid ${gid} for tsrun's thread`);
    return fn();
  } finally {
    setfsuid(fsuid);
    setfsgid(fsgid);
    c.prctl(PR.SET_SECUREBITS, bits, 0, 0, 0);
    if (dumpable > 0) c.prctl(PR.SET_DUMPABLE, dumpable, 0, 0, 0);
  }
}

// setfsuid(-1) changes nothing and returns the current fsuid (the same for gid).
function setfsuid(uid: number): number {
  return Number(libc().syscall(SYS.setfsuid, 'int', uid));
}

function setfsgid(gid: number): number {
  return Number(libc().syscall(SYS.setfsgid, 'int', gid));
}
