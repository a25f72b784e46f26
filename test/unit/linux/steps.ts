import { ChainBuffer, ChainBufferOffset, ErrnoLocation, SockFprog, type CallStep, type ChainArg, type ChainStep } from '../../../ffi/chain-step.js';
import { AT_EMPTY_PATH, AT_FDCWD, AT_RECURSIVE, AT_SYMLINK_NOFOLLOW, CLONE, CLOSE_RANGE_CLOEXEC, MNT_DETACH, MS, O, PR, RESOLVE, S_IFMT } from '../../../ffi/constants.js';
import { SYS } from '../../../ffi/syscall-numbers.js';

/*
 * Chain steps as readable lines, so that tests can state exactly which calls
 * a planner asks for, with which arguments, in which order:
 *
 *   mount("proc", "/proc/self/fd/5", "proc", 0, null) ?report
 *   mkdirat(3, "dev", 0o755) ?report tolerate=EEXIST
 *   syscall(SYS_openat2, 3, "dev", how{O_RDONLY|O_DIRECTORY|O_CLOEXEC|O_PATH, 0o0, RESOLVE_NO_MAGICLINKS|RESOLVE_IN_ROOT}, 24) ?report
 *   checkpoint spawned
 *   report errno (execve /bin/sh)
 *   unblock-signals                        (later steps run with no signal blocked)
 *   release-memory                         (the copy of Node and the contexts run so far are unmapped)
 *   memcpy(&buf"...", &errno, 4)           (shared buffers, the child's errno)
 *   read(4, &buf"\u0000\u0000bin/sh\u0000"+1, 1)   (an address inside a shared buffer)
 *
 * Flags are printed by name (and any unknown bits in hex), modes in octal.
 */

const SYSCALL_NAMES = new Map<number, string>(Object.entries(SYS).map(([name, n]) => [n, name]));

type Format = (value: number) => string;

function named(table: Record<string, number>, prefix: string): Format {
  return (value) => {
    if (value === 0) return '0';
    const names: string[] = [];
    let rest = value;
    for (const [name, bit] of Object.entries(table)) {
      if (bit !== 0 && (value & bit) === bit && (rest & bit) !== 0) {
        names.push(`${prefix}${name}`);
        rest &= ~bit;
      }
    }
    if (rest !== 0) names.push(`0x${(rest >>> 0).toString(16)}`);
    return names.join('|');
  };
}

const { RDONLY: _rdonly, WRONLY: _wronly, RDWR: _rdwr, ...O_BITS } = O;
const oFlags: Format = (value) => {
  const access = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'][value & 3] as string;
  const rest = named(O_BITS, 'O_')(value & ~3);
  return rest === '0' ? access : `${access}|${rest}`;
};
const msFlags = named(MS, 'MS_');
const cloneFlags = named(CLONE, 'CLONE_');
const resolveFlags = named(RESOLVE, 'RESOLVE_');
const octal: Format = (value) => `0o${value.toString(8)}`;
const PR_NAMES = new Map<number, string>(
  Object.entries(PR)
    .filter(([name]) => !name.startsWith('CAP_AMBIENT_'))
    .map(([name, n]) => [n, `PR_${name}`]),
);
const AMBIENT_OPS = new Map<number, string>([
  [PR.CAP_AMBIENT_RAISE, 'PR_CAP_AMBIENT_RAISE'],
  [PR.CAP_AMBIENT_CLEAR_ALL, 'PR_CAP_AMBIENT_CLEAR_ALL'],
]);
const FILE_TYPES: Record<number, string> = { 0o010000: 'S_IFIFO', 0o020000: 'S_IFCHR', 0o060000: 'S_IFBLK', 0o100000: 'S_IFREG' };
/** A dirfd argument: AT_FDCWD by name, a real fd as its number. */
const dirFd: Format = (value) => (value === AT_FDCWD ? 'AT_FDCWD' : String(value));
const nodeMode: Format = (value) => `${FILE_TYPES[value & S_IFMT] ?? octal(value & S_IFMT)}|${octal(value & 0o7777)}`;

/** Per function: how to print the number at each argument position. */
const NUMBER_FORMATS: Record<string, Record<number, Format>> = {
  mount: { 3: msFlags },
  open: { 1: oFlags, 2: octal },
  openat: { 0: dirFd, 2: oFlags, 3: octal },
  mkdirat: { 2: octal },
  mknodat: { 2: nodeMode },
  umask: { 0: octal },
  unshare: { 0: cloneFlags },
  setns: { 1: cloneFlags },
  fcntl: { 1: (v) => (v === 2 ? 'F_SETFD' : v === 1 ? 'F_GETFD' : String(v)) },
  close_range: { 1: (v) => (v === 0xffffffff ? '~0U' : String(v)), 2: named({ CLOEXEC: CLOSE_RANGE_CLOEXEC }, 'CLOSE_RANGE_') },
  umount2: { 1: named({ DETACH: MNT_DETACH }, 'MNT_') },
  fchownat: { 4: named({ SYMLINK_NOFOLLOW: AT_SYMLINK_NOFOLLOW }, 'AT_') },
  mount_setattr: { 0: dirFd, 2: named({ SYMLINK_NOFOLLOW: AT_SYMLINK_NOFOLLOW, EMPTY_PATH: AT_EMPTY_PATH, RECURSIVE: AT_RECURSIVE }, 'AT_') },
};

function formatNumber(fn: string, index: number, value: number, args: readonly ChainArg[]): string {
  if (fn === 'prctl') {
    if (index === 0) return PR_NAMES.get(value) ?? String(value);
    if (index === 1 && args[0] === PR.CAP_AMBIENT) return AMBIENT_OPS.get(value) ?? String(value);
  }
  const format = NUMBER_FORMATS[fn]?.[index];
  return format === undefined ? String(value) : format(value);
}

/** The fields of an openat2(2) `struct open_how` (flags, mode, resolve). */
export interface OpenHow {
  readonly flags: number;
  readonly mode: number;
  readonly resolve: number;
}

export function decodeOpenHow(how: Uint8Array): OpenHow {
  if (how.length !== 24) throw new Error(`struct open_how is 24 bytes, not ${how.length}`);
  const view = Buffer.from(how.buffer, how.byteOffset, how.length);
  return {
    flags: Number(view.readBigUInt64LE(0)),
    mode: Number(view.readBigUInt64LE(8)),
    resolve: Number(view.readBigUInt64LE(16)),
  };
}

/** A buffer read as little-endian 32-bit words. */
export function u32Words(bytes: Uint8Array): number[] {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return Array.from({ length: Math.floor(bytes.length / 4) }, (_, i) => view.readUInt32LE(4 * i));
}

function formatBytes(sys: string | undefined, bytes: Uint8Array): string {
  if (sys === 'openat2' && bytes.length === 24) {
    const how = decodeOpenHow(bytes);
    return `how{${oFlags(how.flags)}, ${octal(how.mode)}, ${resolveFlags(how.resolve)}}`;
  }
  if (sys === 'mount_setattr' && bytes.length === 32) {
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    const [set, clr, propagation, userns] = [0, 8, 16, 24].map((at) => `0x${view.readBigUInt64LE(at).toString(16)}`);
    return `attr{set=${set}, clr=${clr}, propagation=${propagation}, userns_fd=${userns}}`;
  }
  if (sys === 'capset') return `u32[${u32Words(bytes).map((w) => `0x${w.toString(16)}`).join(', ')}]`;
  if (bytes.length % 4 === 0) return `u32[${u32Words(bytes).join(', ')}]`;
  return `bytes[${Buffer.from(bytes).toString('hex')}]`;
}

function formatBuffer(buffer: ChainBuffer): string {
  return `&buf${JSON.stringify(Buffer.from(buffer.initial).toString('latin1'))}`;
}

function formatArg(fn: string, sys: string | undefined, index: number, arg: ChainArg, args: readonly ChainArg[]): string {
  if (arg === null) return 'null';
  if (typeof arg === 'string') return JSON.stringify(arg);
  if (typeof arg === 'number') return formatNumber(sys ?? fn, index, arg, args);
  if (typeof arg === 'bigint') return `0x${arg.toString(16)}n`;
  if (arg instanceof ChainBuffer) return formatBuffer(arg);
  if (arg instanceof ChainBufferOffset) return `${formatBuffer(arg.buffer)}+${arg.offset}`;
  if (arg instanceof ErrnoLocation) return '&errno';
  if (arg instanceof SockFprog) return `sock_fprog{${arg.filter.length / 8} insns}`;
  if (arg instanceof Uint8Array) return formatBytes(sys, arg);
  return `[${arg.map((s) => JSON.stringify(s)).join(', ')}]`;
}

/** The name of the raw syscall a `syscall(2)` step makes, if it is one. */
export function syscallName(step: CallStep): string | undefined {
  if (step.fn !== 'syscall' || typeof step.args[0] !== 'number') return undefined;
  return SYSCALL_NAMES.get(step.args[0]);
}

export function renderCall(step: CallStep): string {
  const sys = syscallName(step);
  let text: string;
  if (sys !== undefined) {
    const rest = step.args.slice(1);
    text = `syscall(SYS_${sys}${rest.map((a, i) => `, ${formatArg(step.fn, sys, i, a, rest)}`).join('')})`;
  } else {
    text = `${step.fn}(${step.args.map((a, i) => formatArg(step.fn, undefined, i, a, step.args)).join(', ')})`;
  }
  if (step.report !== undefined) text += ' ?report';
  if (step.tolerate !== undefined && step.tolerate.length > 0) text += ` tolerate=${step.tolerate.join(',')}`;
  return text;
}

export function renderStep(step: ChainStep): string {
  if (step.kind === 'checkpoint') return `checkpoint ${step.name}`;
  if (step.kind === 'report') return `report errno (${step.what})`;
  if (step.kind === 'unblock-signals') return 'unblock-signals';
  if (step.kind === 'fork') return `fork (${step.what})`;
  if (step.kind === 'release-memory') return 'release-memory';
  return renderCall(step);
}

export function render(steps: readonly ChainStep[]): string[] {
  return steps.map(renderStep);
}

/** The call steps, optionally only those of function `fn` (or raw syscall `SYS_name`). */
export function callSteps(steps: readonly ChainStep[], fn?: string): CallStep[] {
  return steps.filter(
    (s): s is CallStep => s.kind === 'call' && (fn === undefined || s.fn === fn || `SYS_${syscallName(s) ?? ''}` === fn),
  );
}

/** Index of the first line that equals `line` (a string) or matches it (a RegExp); -1 if none. */
export function lineIndex(lines: readonly string[], line: string | RegExp, from = 0): number {
  for (let i = from; i < lines.length; i += 1) {
    const l = lines[i] as string;
    if (typeof line === 'string' ? l === line : line.test(l)) return i;
  }
  return -1;
}

/** Like lineIndex, but fails loudly when there is no such line. */
export function mustFind(lines: readonly string[], line: string | RegExp, from = 0): number {
  const i = lineIndex(lines, line, from);
  if (i < 0) throw new Error(`no line ${String(line)} (from ${from}) in:\n${lines.join('\n')}`);
  return i;
}

// ---------------------------------------------------------------------------
// An independent replay of the fd table, the way the kernel would see it.

/** Argument positions that are fds, per function (for raw syscalls, after the number). */
const FD_ARGS: Record<string, readonly number[]> = {
  fchdir: [0],
  mkdirat: [0],
  unlinkat: [0],
  mknodat: [0],
  fchownat: [0],
  symlinkat: [1],
  setns: [0],
  read: [0],
  write: [0],
  fcntl: [0],
  close: [0],
  openat: [0],
  openat2: [0],
  mount_setattr: [0],
  ioctl: [0],
};

const PROC_FD = /^\/proc\/self\/fd\/(\d+)$/;

export interface FdReplay {
  /** Uses of fds that are not open at that point, and closes of fds that are not open. */
  readonly problems: string[];
  /** The fd table (fd -> what it is) just before each step. */
  readonly before: ReadonlyArray<ReadonlyMap<number, string>>;
  /** The fds each step refers to, with what they were at that point. */
  readonly uses: ReadonlyArray<ReadonlyArray<{ fd: number; what: string }>>;
  /** The fd each open/openat2 step returned. */
  readonly opened: ReadonlyMap<number, number>;
  /** The table after the last step. */
  readonly after: ReadonlyMap<number, string>;
  /** fds the steps opened that are still open after the last step. */
  readonly leaked: ReadonlyMap<number, string>;
}

/** What an fd opened from /proc/self/fd (the host's, opened before pivot_root) is described as. */
const PROC_FD_DIR = '/proc/self/fd';

/**
 * Replay open/openat/openat2/close/close_range as the kernel would (lowest
 * free fd), starting from `inherited` (fd -> description), and check that
 * every fd a step refers to, directly, as /proc/self/fd/N, or as the name
 * "N" opened at a dirfd that is /proc/self/fd, is open at that point.
 * open(2) results are described by their path, openat(2) and openat2(2)
 * results as "<path> (in <description of the dirfd>)".
 */
export function replayFds(steps: readonly ChainStep[], inherited: ReadonlyMap<number, string> | readonly number[]): FdReplay {
  const table = new Map<number, string>(
    Array.isArray(inherited) ? inherited.map((fd): [number, string] => [fd, `inherited ${fd}`]) : [...(inherited as ReadonlyMap<number, string>)],
  );
  const inheritedFds = new Set(table.keys());
  const problems: string[] = [];
  const before: Array<ReadonlyMap<number, string>> = [];
  const uses: Array<Array<{ fd: number; what: string }>> = [];
  const opened = new Map<number, number>();
  const lowestFree = () => {
    let fd = 0;
    while (table.has(fd)) fd += 1;
    return fd;
  };
  steps.forEach((step, i) => {
    before.push(new Map(table));
    const used: Array<{ fd: number; what: string }> = [];
    uses.push(used);
    if (step.kind !== 'call') return;
    const sys = syscallName(step);
    const name = sys ?? step.fn;
    const args = sys === undefined ? step.args : step.args.slice(1);
    const use = (fd: number) => {
      const what = table.get(fd);
      if (what === undefined) problems.push(`step ${i} ${renderStep(step)}: fd ${fd} is not open`);
      used.push({ fd, what: what ?? '(closed)' });
    };
    for (const position of FD_ARGS[name] ?? []) {
      const fd = args[position];
      if (typeof fd === 'number' && fd >= 0) use(fd);
    }
    for (const arg of args) {
      const m = typeof arg === 'string' ? PROC_FD.exec(arg) : null;
      if (m !== null) use(Number(m[1]));
    }
    if (name === 'openat' && typeof args[0] === 'number' && table.get(args[0]) === PROC_FD_DIR && typeof args[1] === 'string' && /^\d+$/.test(args[1])) {
      use(Number(args[1]));
    }
    if (name === 'close' && typeof args[0] === 'number') {
      table.delete(args[0]);
    } else if (name === 'close_range') {
      const [from, to, flags] = args as [number, number, number];
      if ((flags & CLOSE_RANGE_CLOEXEC) === 0) for (const fd of [...table.keys()]) if (fd >= from && fd <= to) table.delete(fd);
    } else if (name === 'open') {
      const fd = lowestFree();
      table.set(fd, String(args[0]));
      opened.set(i, fd);
    } else if (name === 'socket') {
      const fd = lowestFree();
      table.set(fd, `socket(${args.join(', ')})`);
      opened.set(i, fd);
    } else if (name === 'openat' || name === 'openat2') {
      const fd = lowestFree();
      const dir = typeof args[0] === 'number' ? (table.get(args[0]) ?? `fd ${args[0]}`) : '?';
      table.set(fd, `${String(args[1])} (in ${dir})`);
      opened.set(i, fd);
    }
  });
  const leaked = new Map([...table].filter(([fd]) => !inheritedFds.has(fd)));
  return { problems, before, uses, opened, after: table, leaked };
}
