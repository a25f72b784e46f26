import { readFileSync } from 'node:fs';
import { AT_FDCWD } from './constants.js';
import { lastErrno, libc } from './libc.js';
import { SyscallError } from './syscall-error.js';
import { SYS } from './syscall-numbers.js';

/**
 * openat2(2) from the Node process (glibc has no wrapper): `flags` are O_*,
 * `resolve` RESOLVE_*. Returns the fd; a failure throws a SyscallError
 * whose `code` is the errno's name.
 */
export function openat2(path: string, flags: number, resolve: number, dirfd: number = AT_FDCWD): number {
  // struct open_how { u64 flags; u64 mode; u64 resolve; }
  const how = Buffer.alloc(24);
  how.writeBigUInt64LE(BigInt(flags), 0);
  how.writeBigUInt64LE(BigInt(resolve), 16);
  const fd = Number(libc().syscall(SYS.openat2, 'int', dirfd, 'str', path, 'void *', how, 'size_t', how.length));
  if (fd < 0) throw new SyscallError('openat2', lastErrno(), path);
  return fd;
}

/** The mount id (as in /proc/self/mountinfo) of the file an fd of this process refers to. */
export function mountIdOfFd(fd: number): number {
  const match = /^mnt_id:\s*(\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
  if (match?.[1] === undefined) throw new Error(`/proc/self/fdinfo/${fd} has no mnt_id line`);
  return Number(match[1]);
}

/** The path through which the kernel reaches exactly what an fd refers to, without walking any name again. */
export function fdPath(fd: number): string {
  return `/proc/self/fd/${fd}`;
}

export function closeFd(fd: number): void {
  libc().close(fd);
}
