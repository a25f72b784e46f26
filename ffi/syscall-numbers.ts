// System calls the chain makes through glibc's generic syscall(2), because
// glibc's own wrappers either do not exist (pivot_root, openat2) or are unsafe
// in a cloned child (set*id broadcast to threads that no longer exist).

interface SyscallTable {
  readonly setgroups: number;
  readonly setresuid: number;
  readonly setresgid: number;
  readonly capset: number;
  readonly pivot_root: number;
  readonly rt_sigprocmask: number;
  readonly exit_group: number;
  readonly openat2: number;
  readonly pidfd_open: number;
  readonly pidfd_getfd: number;
  readonly close_range: number;
  readonly setfsuid: number;
  readonly setfsgid: number;
  readonly mount_setattr: number;
  readonly seccomp: number;
  readonly keyctl: number;
  readonly bpf: number;
  readonly ioprio_set: number;
  readonly ioprio_get: number;
  readonly sched_setattr: number;
  readonly sched_getattr: number;
}

const x64: SyscallTable = {
  setgroups: 116,
  setresuid: 117,
  setresgid: 119,
  capset: 126,
  pivot_root: 155,
  rt_sigprocmask: 14,
  exit_group: 231,
  openat2: 437,
  pidfd_open: 434,
  pidfd_getfd: 438,
  close_range: 436,
  setfsuid: 122,
  setfsgid: 123,
  mount_setattr: 442,
  seccomp: 317,
  keyctl: 250,
  bpf: 321,
  ioprio_set: 251,
  ioprio_get: 252,
  sched_setattr: 314,
  sched_getattr: 315,
};

const arm64: SyscallTable = {
  setgroups: 159,
  setresuid: 147,
  setresgid: 149,
  capset: 91,
  pivot_root: 41,
  rt_sigprocmask: 135,
  exit_group: 94,
  openat2: 437,
  pidfd_open: 434,
  pidfd_getfd: 438,
  close_range: 436,
  setfsuid: 151,
  setfsgid: 152,
  mount_setattr: 442,
  seccomp: 277,
  keyctl: 219,
  bpf: 280,
  ioprio_set: 30,
  ioprio_get: 31,
  sched_setattr: 274,
  sched_getattr: 275,
};

function tableFor(arch: string): SyscallTable {
  if (arch === 'x64') return x64;
  if (arch === 'arm64') return arm64;
  throw new Error(`tsrun supports x86_64 and aarch64 only; this machine is ${arch}`);
}

export const SYS: SyscallTable = tableFor(process.arch);
