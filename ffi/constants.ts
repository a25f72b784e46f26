// Linux ABI numbers the runtime needs. Values are the kernel's UAPI values;
// syscall numbers differ per architecture and live in syscall-numbers.ts.

export const CLONE = {
  NEWTIME: 0x00000080,
  NEWNS: 0x00020000,
  NEWCGROUP: 0x02000000,
  NEWUTS: 0x04000000,
  NEWIPC: 0x08000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
  FS: 0x00000200,
} as const;

export const SIGCHLD = 17;
export const SIGKILL = 9;
/** clone(2): the child's parent is the caller's parent. */
export const CLONE_PARENT = 0x00008000;

export const O = {
  RDONLY: 0o0,
  WRONLY: 0o1,
  RDWR: 0o2,
  CREAT: 0o100,
  EXCL: 0o200,
  NOCTTY: 0o400,
  TRUNC: 0o1000,
  NONBLOCK: 0o4000,
  DIRECTORY: 0o200000,
  NOFOLLOW: 0o400000,
  CLOEXEC: 0o2000000,
  PATH: 0o10000000,
} as const;

export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_EMPTY_PATH = 0x1000;
export const AT_RECURSIVE = 0x8000;

/** openat2(2) `resolve` flags. */
export const RESOLVE = {
  NO_XDEV: 0x01,
  NO_MAGICLINKS: 0x02,
  NO_SYMLINKS: 0x04,
  BENEATH: 0x08,
  IN_ROOT: 0x10,
} as const;

export const F_SETFD = 2;
export const F_GETFD = 1;
export const F_DUPFD_CLOEXEC = 1030;

export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOSYMFOLLOW: 0x100,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  BIND: 0x1000,
  MOVE: 0x2000,
  REC: 0x4000,
  SILENT: 0x8000,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  STRICTATIME: 1 << 24,
  LAZYTIME: 1 << 25,
} as const;

export const MNT_DETACH = 2;

export const S_IFMT = 0o170000;
export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;
export const S_IFDIR = 0o040000;
export const S_IFBLK = 0o060000;
export const S_IFREG = 0o100000;

export const LOCK = { SH: 1, EX: 2, NB: 4, UN: 8 } as const;

export const SIG_BLOCK = 0;
export const SIG_SETMASK = 2;
export const SIG_DFL = 0;

export const PR = {
  SET_PDEATHSIG: 1,
  GET_DUMPABLE: 3,
  SET_DUMPABLE: 4,
  SET_KEEPCAPS: 8,
  GET_SECUREBITS: 27,
  SET_SECUREBITS: 28,
  CAPBSET_DROP: 24,
  SET_NO_NEW_PRIVS: 38,
  CAP_AMBIENT: 47,
  CAP_AMBIENT_RAISE: 2,
  CAP_AMBIENT_CLEAR_ALL: 4,
} as const;

/** securebits (linux/securebits.h): uid changes, fsuid included, leave the capability sets alone. */
export const SECBIT_NO_SETUID_FIXUP = 1 << 2;

/** capset(2) header version 3: two 32-bit words per set. */
export const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

export const WNOHANG = 1;
export const CLOSE_RANGE_CLOEXEC = 1 << 2;

/** Terminal ioctls (asm-generic/ioctls.h; the same on x86_64 and arm64). */
export const TIOC = {
  /** Set the window size (struct winsize). */
  SWINSZ: 0x5414,
  /** Make the terminal the caller's controlling terminal. */
  SCTTY: 0x540e,
  /** Get the pty's number (the N of /dev/pts/N). */
  GPTN: 0x80045430,
  /** Lock or unlock the pty's slave (int *). */
  SPTLCK: 0x40045431,
  /** Open the pty's slave from the master, without a path (Linux 4.13). */
  GPTPEER: 0x5441,
} as const;

/** Bringing an interface up the way ifconfig does: ioctl(SIOCSIFFLAGS) on any socket (linux/sockios.h, linux/if.h). */
export const NET = {
  AF_INET: 2,
  SOCK_DGRAM: 2,
  SOCK_CLOEXEC: 0o2000000,
  SIOCSIFFLAGS: 0x8914,
  /** struct ifreq: the name (IFNAMSIZ 16 bytes), then the flags (a short) in the union. */
  IFREQ_SIZE: 40,
  IFREQ_FLAGS_OFFSET: 16,
  IFF_UP: 0x1,
  IFF_LOOPBACK: 0x8,
} as const;

/** Native memory of our own (sys/mman.h; the same on x86_64 and arm64). */
export const MM = {
  PROT_NONE: 0,
  PROT_READ: 1,
  PROT_WRITE: 2,
  MAP_PRIVATE: 0x02,
  MAP_ANONYMOUS: 0x20,
} as const;

/** getauxval(3) keys (elf.h): the page size, the load address of the dynamic linker. */
export const AT = { PAGESZ: 6, BASE: 7 } as const;
