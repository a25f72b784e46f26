import { lastErrno, libc } from './libc.js';
import { NativeBytes } from './native-bytes.js';
import { errnoName, SyscallError } from './syscall-error.js';
import { SYS } from './syscall-numbers.js';

// bpf(2) through glibc's syscall(): glibc has no wrapper for it. Values from linux/bpf.h.
const CMD = {
  PROG_LOAD: 5,
  PROG_ATTACH: 8,
  PROG_DETACH: 9,
  PROG_GET_FD_BY_ID: 13,
  PROG_QUERY: 16,
} as const;

export const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
export const BPF_CGROUP_DEVICE = 6; // enum bpf_attach_type
export const BPF_F_ALLOW_MULTI = 2;

// union bpf_attr grows with each kernel (about 150 bytes in 6.x). The kernel
// accepts a larger size when the tail is zero, and some commands write results
// into fields far into the union, so every call passes a zeroed buffer this big.
const ATTR_SIZE = 256;

/** Size of one struct bpf_insn. */
const INSN_SIZE = 8;

/** The largest verifier log we ask for; a failing device program's log is a few KiB. */
const LOG_SIZE = 1 << 20;

/** Run one bpf(2) command; returns the result, or the negated errno. */
function bpf(cmd: number, attr: Buffer): number {
  const result = Number(libc().syscall(SYS.bpf, 'long', cmd, 'void *', attr, 'long', attr.length));
  return result < 0 ? -lastErrno() : result;
}

export interface ProgramToLoad {
  readonly type: number;
  /** struct bpf_insn[], 8 bytes each. */
  readonly insns: Uint8Array;
  /** Only programs that call GPL-only helpers need "GPL"; the device program calls none. */
  readonly license: string;
  /** Shown by bpftool; up to 15 characters of [A-Za-z0-9_.]. */
  readonly name: string;
}

/** BPF_PROG_LOAD: returns the program's fd (close-on-exec). On failure the error carries the verifier's log. */
export function bpfProgLoad(program: ProgramToLoad): number {
  const insns = NativeBytes.of(program.insns);
  const license = NativeBytes.of(Buffer.from(`${program.license}\0`));
  try {
    const attr = Buffer.alloc(ATTR_SIZE);
    attr.writeUInt32LE(program.type, 0); //                   prog_type
    attr.writeUInt32LE(program.insns.length / INSN_SIZE, 4); // insn_cnt
    attr.writeBigUInt64LE(insns.address, 8); //               insns
    attr.writeBigUInt64LE(license.address, 16); //            license
    attr.write(program.name.slice(0, 15), 48, 'latin1'); //   prog_name[16]
    const fd = bpf(CMD.PROG_LOAD, attr);
    if (fd >= 0) return fd;
    // Load again with a log: without one the kernel only says EINVAL or EACCES.
    return loadWithLog(attr, -fd, program);
  } finally {
    insns.free();
    license.free();
  }
}

function loadWithLog(attr: Buffer, firstErrno: number, program: ProgramToLoad): number {
  const log = new NativeBytes(LOG_SIZE);
  try {
    attr.writeUInt32LE(1, 24); //                  log_level: the verifier's messages
    attr.writeUInt32LE(LOG_SIZE, 28); //           log_size
    attr.writeBigUInt64LE(log.address, 32); //     log_buf
    const fd = bpf(CMD.PROG_LOAD, attr);
    if (fd >= 0) return fd;
    const end = log.bytes.indexOf(0);
    const text = Buffer.from(log.bytes.subarray(0, end < 0 ? LOG_SIZE : end)).toString('utf8').trim();
    const count = program.insns.length / INSN_SIZE;
    const subject = `BPF_PROG_LOAD of ${program.name} (${count} instruction${count === 1 ? '' : 's'})`;
    throw new SyscallError('bpf', firstErrno, subject, loadHint(firstErrno, text));
  } finally {
    log.free();
  }
}

function loadHint(errno: number, log: string): string {
  const verifier = log === '' ? '' : `; the verifier said:\n${log}`;
  switch (errnoName(errno)) {
    case 'EPERM':
      return `loading BPF programs needs root (CAP_BPF and CAP_SYS_ADMIN); before Linux 5.11 they also count against RLIMIT_MEMLOCK${verifier}`;
    case 'EINVAL':
      return `the kernel refused the program (a kernel without CONFIG_CGROUP_BPF does not know this program type)${verifier}`;
    default:
      return `the kernel refused the program${verifier}`;
  }
}

/** BPF_PROG_ATTACH of a loaded program to the cgroup directory open as `cgroupFd`. */
export function bpfProgAttach(cgroupFd: number, progFd: number, attachType: number, flags: number, cgroupDir: string): void {
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(cgroupFd, 0); //    target_fd
  attr.writeUInt32LE(progFd, 4); //      attach_bpf_fd
  attr.writeUInt32LE(attachType, 8); //  attach_type
  attr.writeUInt32LE(flags, 12); //      attach_flags
  const result = bpf(CMD.PROG_ATTACH, attr);
  if (result < 0) throw new SyscallError('bpf', -result, `BPF_PROG_ATTACH to ${cgroupDir}`, attachHint(-result));
}

function cgroupHint(errno: number): string | undefined {
  return errnoName(errno) === 'EBADF' ? 'the directory is not a cgroup v2 directory (BPF programs attach to cgroup2 only)' : undefined;
}

function attachHint(errno: number): string | undefined {
  switch (errnoName(errno)) {
    case 'EBADF':
      return cgroupHint(errno);
    case 'EPERM':
      return 'needs root; or this cgroup or an ancestor holds a program attached without BPF_F_ALLOW_MULTI';
    case 'E2BIG':
      return 'this cgroup already holds the most programs of this type the kernel allows (64)';
    default:
      return undefined;
  }
}

/** BPF_PROG_DETACH of one program (identified by an fd for it) from a cgroup. */
export function bpfProgDetach(cgroupFd: number, progFd: number, attachType: number, cgroupDir: string): void {
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(cgroupFd, 0); //    target_fd
  attr.writeUInt32LE(progFd, 4); //      attach_bpf_fd
  attr.writeUInt32LE(attachType, 8); //  attach_type
  const result = bpf(CMD.PROG_DETACH, attr);
  if (result < 0) throw new SyscallError('bpf', -result, `BPF_PROG_DETACH from ${cgroupDir}`);
}

export interface AttachedPrograms {
  /** The flags the programs were attached with (BPF_F_ALLOW_MULTI...). */
  readonly attachFlags: number;
  /** Program ids, in the order the kernel runs them. */
  readonly ids: number[];
}

/** BPF_PROG_QUERY: the programs attached directly to this cgroup (not inherited ones). */
export function bpfProgQuery(cgroupFd: number, attachType: number, cgroupDir: string): AttachedPrograms {
  // 64 is the kernel's per-cgroup limit today; grow if a later kernel says ENOSPC.
  for (let capacity = 64; ; capacity *= 2) {
    const ids = new NativeBytes(capacity * 4);
    try {
      const attr = Buffer.alloc(ATTR_SIZE);
      attr.writeUInt32LE(cgroupFd, 0); //            target_fd
      attr.writeUInt32LE(attachType, 4); //          attach_type
      attr.writeBigUInt64LE(ids.address, 16); //     prog_ids
      attr.writeUInt32LE(capacity, 24); //           prog_cnt: room in prog_ids
      const result = bpf(CMD.PROG_QUERY, attr);
      if (result < 0 && !(errnoName(-result) === 'ENOSPC' && capacity < 4096)) {
        throw new SyscallError('bpf', -result, `BPF_PROG_QUERY of ${cgroupDir}`, cgroupHint(-result));
      }
      if (result < 0) continue;
      const count = attr.readUInt32LE(24); //        prog_cnt: how many the kernel wrote
      const view = new DataView(ids.bytes.buffer, ids.bytes.byteOffset, count * 4);
      return {
        attachFlags: attr.readUInt32LE(12),
        ids: Array.from({ length: count }, (_, i) => view.getUint32(i * 4, true)),
      };
    } finally {
      ids.free();
    }
  }
}

/** BPF_PROG_GET_FD_BY_ID: an fd for a loaded program (to detach or replace it). */
export function bpfProgGetFdById(id: number): number {
  const attr = Buffer.alloc(ATTR_SIZE);
  attr.writeUInt32LE(id, 0); // prog_id
  const fd = bpf(CMD.PROG_GET_FD_BY_ID, attr);
  if (fd < 0) throw new SyscallError('bpf', -fd, `BPF_PROG_GET_FD_BY_ID ${id}`);
  return fd;
}
