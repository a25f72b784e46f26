import { readFileSync } from 'node:fs';
import { AT } from './constants.js';
import { koffi } from './koffi.js';
import { libc, symbolAddress } from './libc.js';

/**
 * What the container's first process may give back before it waits for
 * `start`. clone(2) gave it a copy of the whole Node process; once tsrun
 * exits, every page of that copy the child or Node had touched is the child's
 * alone (its USS). The chain runs only libc code, on its own arena, so
 * everything else can be unmapped: the V8 heap is not even there (V8 marks
 * it MADV_DONTFORK), but Node's and V8's malloc heaps, thread stacks, the
 * node binary and every other library are.
 */

/** A range of addresses, [start, end). */
export interface Range {
  readonly start: bigint;
  readonly end: bigint;
}

/** One line of /proc/<pid>/maps. */
export interface Mapping extends Range {
  /** The file (or [heap], [stack], [vdso], ...); empty for anonymous memory. */
  readonly path: string;
}

export function parseMaps(text: string): Mapping[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      // start-end perms offset dev inode path (the path may hold spaces)
      const fields = line.split(/\s+/);
      const [start, end] = (fields[0] ?? '').split('-');
      if (start === undefined || end === undefined) throw new Error(`not a line of /proc/self/maps: ${line}`);
      return { start: BigInt(`0x${start}`), end: BigInt(`0x${end}`), path: fields.slice(5).join(' ') };
    });
}

/** What the rest of the chain runs on, besides its arena. */
export interface ChainMemory {
  /** The arena: contexts, stack, strings, arrays. */
  readonly arena: Range;
  /**
   * An address inside each shared object the remaining calls need: libc
   * (its code, data and bss) and the dynamic linker, whose data libc reads.
   */
  readonly libraries: readonly bigint[];
  /**
   * Addresses of the thread's own data: errno and the thread pointer (the
   * TCB holds the stack-protector canary and what a cancellable call
   * checks). Their whole mapping is kept: ld.so allocated it at startup,
   * together with the static TLS of every library.
   */
  readonly thread: readonly bigint[];
  /**
   * Where the process's argument strings start: from that page to the end
   * of the stack stays, so /proc/<pid>/cmdline and environ still read as
   * before (ps shows the waiting process as it showed it).
   */
  readonly argStart: bigint;
  readonly pageSize: number;
}

/** Special mappings of the kernel's: never ours to unmap (and [vsyscall] cannot be). */
const KERNEL_MAPPINGS = /^\[(vdso|vvar\w*|vsyscall|uprobes)\]$/;

/** The ranges the chain still needs, from the process's maps and what it runs on. */
export function keptRanges(maps: readonly Mapping[], memory: ChainMemory): Range[] {
  const kept: Range[] = [memory.arena];
  const containing = (address: bigint, what: string): Mapping => {
    const found = maps.find((m) => m.start <= address && address < m.end);
    if (found === undefined) throw new Error(`${what} 0x${address.toString(16)} is in no mapping of /proc/self/maps`);
    return found;
  };
  for (const address of memory.libraries) {
    const { path } = containing(address, 'the library address');
    if (!path.startsWith('/')) throw new Error(`the library at 0x${address.toString(16)} is not a file (${path || 'anonymous'})`);
    const own = maps.filter((m) => m.path === path);
    kept.push(...own);
    // A library's bss beyond its file is an anonymous mapping right after its last one.
    const last = own.reduce((a, b) => (b.end > a.end ? b : a));
    const bss = maps.find((m) => m.start === last.end && m.path === '');
    if (bss !== undefined) kept.push(bss);
  }
  for (const address of memory.thread) kept.push(containing(address, 'the thread data'));
  kept.push(...maps.filter((m) => KERNEL_MAPPINGS.test(m.path)));
  const stack = containing(memory.argStart, 'the argument strings');
  const page = BigInt(memory.pageSize);
  kept.push({ start: (memory.argStart / page) * page, end: stack.end });
  return kept;
}

/**
 * The ranges to unmap: every mapped address outside `kept`, as few ranges
 * as there are gaps between kept ones. A range may span holes (munmap(2)
 * ignores what is not mapped), and so also whatever another Node thread
 * mapped there between the snapshot and clone(2), which is Node's too.
 * Nothing beyond the last mapping that is not the kernel's: [vsyscall] lies
 * above the end of user space, where munmap(2) fails.
 */
export function releasableRanges(maps: readonly Mapping[], kept: readonly Range[]): Range[] {
  const user = maps.filter((m) => !KERNEL_MAPPINGS.test(m.path));
  if (user.length === 0) return [];
  const low = user.reduce((a, m) => (m.start < a ? m.start : a), user[0]?.start ?? 0n);
  const high = user.reduce((a, m) => (m.end > a ? m.end : a), 0n);
  const sorted = [...kept].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const gaps: Range[] = [];
  let from = low;
  for (const k of sorted) {
    if (k.start > from) gaps.push({ start: from, end: k.start < high ? k.start : high });
    if (k.end > from) from = k.end;
  }
  if (from < high) gaps.push({ start: from, end: high });
  // Only gaps that hold something mapped are worth a call.
  return gaps.filter((g) => g.start < g.end && user.some((m) => m.start < g.end && g.start < m.end));
}

/** The ranges to unmap in a child cloned from this process now, whose chain runs on `arena`. */
export function releasableNow(arena: Range, pageSize: number): Range[] {
  const maps = parseMaps(readFileSync('/proc/self/maps', 'utf8'));
  const memory: ChainMemory = {
    arena,
    libraries: [symbolAddress('read'), BigInt(libc().getauxval(AT.BASE))],
    thread: [koffi().address(libc().errnoLocation()), koffi().address(libc().pthreadSelf())],
    argStart: argStart(readFileSync('/proc/self/stat', 'utf8')),
    pageSize,
  };
  return releasableRanges(maps, keptRanges(maps, memory));
}

/** arg_start, field 48 of /proc/<pid>/stat (proc(5)); the command name before it may hold spaces. */
export function argStart(stat: string): bigint {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after the name start at 3 (state).
  const value = fields[48 - 3];
  if (value === undefined) throw new Error('/proc/self/stat has no arg_start');
  return BigInt(value);
}
