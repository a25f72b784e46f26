import { describe, expect, it } from 'vitest';
import { call, ChainBuffer, ChainBufferOffset, checkpoint, reportErrno, unblockSignals } from '../../../ffi/chain-step.js';
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_RECURSIVE,
  AT_SYMLINK_NOFOLLOW,
  CLOSE_RANGE_CLOEXEC,
  F_SETFD,
  LINUX_CAPABILITY_VERSION_3,
  MNT_DETACH,
  MS,
  O,
  RESOLVE,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFMT,
  S_IFREG,
} from '../../../ffi/constants.js';
import { SYS } from '../../../ffi/syscall-numbers.js';
import { errnoMessage, errnoName, SyscallError } from '../../../ffi/syscall-error.js';

// The values below are copied from the kernel's UAPI headers, not from the code under test.

describe('constants', () => {
  it('MS_* (linux/mount.h)', () => {
    expect(MS).toMatchObject({
      RDONLY: 1,
      NOSUID: 2,
      NODEV: 4,
      NOEXEC: 8,
      SYNCHRONOUS: 16,
      REMOUNT: 32,
      MANDLOCK: 64,
      DIRSYNC: 128,
      NOSYMFOLLOW: 256,
      NOATIME: 1024,
      NODIRATIME: 2048,
      BIND: 4096,
      MOVE: 8192,
      REC: 16384,
      SILENT: 32768,
      UNBINDABLE: 131072,
      PRIVATE: 262144,
      SLAVE: 524288,
      SHARED: 1048576,
      RELATIME: 2097152,
      STRICTATIME: 16777216,
      LAZYTIME: 33554432,
    });
    expect(MNT_DETACH).toBe(2);
  });

  it('O_* (asm-generic/fcntl.h), openat2 RESOLVE_*, AT_*', () => {
    expect(O).toMatchObject({
      RDONLY: 0,
      WRONLY: 1,
      RDWR: 2,
      CREAT: 0o100,
      EXCL: 0o200,
      NOCTTY: 0o400,
      TRUNC: 0o1000,
      NONBLOCK: 0o4000,
      DIRECTORY: 0o200000,
      NOFOLLOW: 0o400000,
      CLOEXEC: 0o2000000,
      PATH: 0o10000000,
    });
    expect(RESOLVE).toEqual({ NO_XDEV: 1, NO_MAGICLINKS: 2, NO_SYMLINKS: 4, BENEATH: 8, IN_ROOT: 16 });
    expect([AT_FDCWD, AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH, AT_RECURSIVE]).toEqual([-100, 0x100, 0x1000, 0x8000]);
    expect(F_SETFD).toBe(2);
    expect(CLOSE_RANGE_CLOEXEC).toBe(4);
  });

  it('file types and the capability header version', () => {
    expect([S_IFMT, S_IFIFO, S_IFCHR, S_IFDIR, S_IFBLK, S_IFREG]).toEqual([0o170000, 0o010000, 0o020000, 0o040000, 0o060000, 0o100000]);
    expect(LINUX_CAPABILITY_VERSION_3).toBe(0x20080522);
  });
});

describe('syscall numbers', () => {
  it('are those of this architecture', () => {
    if (process.arch === 'x64') {
      expect(SYS).toMatchObject({
        setgroups: 116,
        setresuid: 117,
        setresgid: 119,
        capset: 126,
        pivot_root: 155,
        rt_sigprocmask: 14,
        exit_group: 231,
        openat2: 437,
        close_range: 436,
        pidfd_open: 434,
        mount_setattr: 442,
        keyctl: 250,
      });
    } else {
      expect(process.arch).toBe('arm64');
      expect(SYS).toMatchObject({ setgroups: 159, setresuid: 147, setresgid: 149, capset: 91, pivot_root: 41, exit_group: 94, openat2: 437, mount_setattr: 442, keyctl: 219 });
    }
  });
});

describe('chain-step builders', () => {
  it('omit report and tolerate unless given', () => {
    expect(call('umask', [0])).toEqual({ kind: 'call', fn: 'umask', args: [0] });
    expect(call('mkdirat', [3, 'x', 0o755], 'mkdir x', ['EEXIST'])).toEqual({ kind: 'call', fn: 'mkdirat', args: [3, 'x', 0o755], report: 'mkdir x', tolerate: ['EEXIST'] });
    expect(checkpoint('ready')).toEqual({ kind: 'checkpoint', name: 'ready' });
    expect(reportErrno('execve')).toEqual({ kind: 'report', what: 'execve' });
    expect(unblockSignals()).toEqual({ kind: 'unblock-signals' });
  });

  it('ChainBuffer keeps its initial bytes', () => {
    const bytes = Buffer.from('\0bin/sh\0');
    expect(new ChainBuffer(bytes).initial).toBe(bytes);
  });

  it('ChainBuffer.at(offset) is an address inside that very buffer, and only inside it', () => {
    const buffer = new ChainBuffer(Buffer.from('\0\0bin/sh\0'));
    const at = buffer.at(1);
    expect(at).toBeInstanceOf(ChainBufferOffset);
    expect(at.buffer).toBe(buffer);
    expect(at.offset).toBe(1);
    expect(buffer.at(0).offset).toBe(0);
    expect(buffer.at(8).offset).toBe(8);
    expect(() => buffer.at(9)).toThrow('offset 9 is outside a 9-byte buffer');
    expect(() => buffer.at(-1)).toThrow('offset -1 is outside a 9-byte buffer');
  });
});

describe('SyscallError', () => {
  it('names the call, its subject, the errno and the hint', () => {
    const e = new SyscallError('mount', 1, '/proc (mounts[0])', 'run as root');
    expect(e.message).toBe('mount /proc (mounts[0]): EPERM (operation not permitted): run as root');
    expect(e.code).toBe('EPERM');
    expect(e.name).toBe('SyscallError');
    expect(new SyscallError('close', 9).message).toBe('close: EBADF (bad file descriptor)');
  });

  it('errnoName and errnoMessage come from the system table', () => {
    expect(errnoName(2)).toBe('ENOENT');
    expect(errnoName(17)).toBe('EEXIST');
    expect(errnoName(99999)).toBe('errno 99999');
    expect(errnoMessage(20)).toBe('not a directory');
    expect(errnoMessage(99999)).toBe('unknown error');
  });
});
