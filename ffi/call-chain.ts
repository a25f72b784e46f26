import { koffi } from './koffi.js';
import { Arena, pageSize } from './arena.js';
import { ChainBuffer, ChainBufferOffset, ErrnoLocation, SockFprog, type ChainArg, type ChainStep } from './chain-step.js';
import { CLONE_PARENT, SIG_SETMASK, SIGCHLD } from './constants.js';
import { lastErrno, libc, symbolAddress } from './libc.js';
import { releasableNow, type Range } from './memory-map.js';
import { pipe } from './pipe.js';
import { SyscallError } from './syscall-error.js';
import { SYS } from './syscall-numbers.js';

// glibc's ucontext_t layout (x86_64 and aarch64 agree on these offsets).
const UC_LINK = 8;
const UC_STACK_SP = 16;
const UC_STACK_FLAGS = 24;
const UC_STACK_SIZE = 32;
const CONTEXT_SIZE = process.arch === 'arm64' ? 4672 : 1024;
// The one stack every context runs on (see CompiledChain.link): deep enough
// for any libc wrapper; the pages a call never reaches are never touched.
const STACK_DEPTH = 64 * 1024;
// A forked chain's child only runs setcontext(3) on its own stack.
const FORK_STACK = 16 * 1024;
// Room for the munmap(2) calls a release-memory step compiles to: one per
// gap between the mappings the chain keeps (about ten), never written
// unless used.
const RELEASE_CALLS = 256;
// The kernel's sigset_t is 8 bytes; glibc's, which pthread_sigmask takes, 128.
const SIGSET_SIZE = 128;

/** What the parent expects in the report pipe, in order. */
export interface ReportSlot {
  /** The index, in the planned steps, of the step that reports here. */
  readonly step: number;
  readonly what: string;
  readonly tolerate: readonly string[];
  /** Set on the slot that a checkpoint's own read(2) reports. */
  readonly checkpoint?: string;
}

interface NativeCall {
  readonly fn: bigint;
  readonly args: bigint[];
  /** The last argument is the address of the context of this native, resolved when linking. */
  contextArg?: number;
  /** munmap(2) of the contexts that have run when this one runs, resolved when linking. */
  unmapsRunContexts?: true;
  /** Captured (and so run) with every signal blocked. */
  blocked?: boolean;
}

/** The two pipes between the parent and the chain. */
export interface ChainChannel {
  readonly syncRead: number;
  readonly syncWrite: number;
  readonly reportRead: number;
  readonly reportWrite: number;
}

export function openChannel(): ChainChannel {
  const sync = pipe();
  const report = pipe();
  return { syncRead: sync[0], syncWrite: sync[1], reportRead: report[0], reportWrite: report[1] };
}

/**
 * A chain compiled into native memory: one ucontext per libc call, all on one
 * stack, linked through uc_link so that glibc runs them back to back.
 * A checked step is surrounded by "errno = 0" and "write(report, &errno, 4)";
 * a checkpoint is a checked read(2) of one byte from the sync pipe.
 */
export class CompiledChain {
  readonly arena: Arena;
  readonly slots: ReportSlot[] = [];
  readonly firstContext: bigint;
  readonly cloneStackTop: bigint;
  private readonly shared = new Map<ChainBuffer, bigint>();

  private readonly errnoAddress: bigint;

  constructor(steps: readonly ChainStep[], channel: ChainChannel) {
    const natives: NativeCall[] = [];
    this.arena = new Arena(estimateSize(steps));
    const errnoAddress = errnoLocation();
    this.errnoAddress = errnoAddress;
    const syncByte = this.arena.addressOf(this.arena.reserve(8));
    const memset = symbolAddress('memset');
    const write = symbolAddress('write');
    const checked = (target: NativeCall) => {
      natives.push({ fn: memset, args: [errnoAddress, 0n, 4n] });
      natives.push(target);
      natives.push({ fn: write, args: [BigInt(channel.reportWrite), errnoAddress, 4n] });
    };
    let unblockedFrom: number | undefined;
    const forkStack = steps.some((s) => s.kind === 'fork') ? this.arena.addressOf(this.arena.reserve(FORK_STACK) + FORK_STACK) : 0n;
    steps.forEach((step, index) => {
      if (step.kind === 'fork' && steps[index + 1]?.kind !== 'checkpoint') {
        throw new Error(`the chain's fork "${step.what}" must be followed by a checkpoint`);
      }
    });
    steps.forEach((step, index) => {
      if (step.kind === 'fork') {
        // clone(setcontext, stack, CLONE_PARENT | SIGCHLD, <the context after exit_group>):
        // the child starts at the next step; this process reports and exits.
        const clone: NativeCall = { fn: symbolAddress('clone'), args: [symbolAddress('setcontext'), forkStack, BigInt(CLONE_PARENT | SIGCHLD)] };
        checked(clone);
        natives.push({ fn: symbolAddress('syscall'), args: [BigInt(SYS.exit_group), 0n] });
        clone.contextArg = natives.length;
        this.slots.push({ step: index, what: step.what, tolerate: [] });
        return;
      }
      if (step.kind === 'unblock-signals') {
        unblockedFrom = natives.length;
        return;
      }
      if (step.kind === 'checkpoint') {
        checked({ fn: symbolAddress('read'), args: [BigInt(channel.syncRead), syncByte, 1n] });
        this.slots.push({ step: index, what: `checkpoint ${step.name}`, tolerate: [], checkpoint: step.name });
        return;
      }
      if (step.kind === 'release-memory') {
        const munmap = symbolAddress('munmap');
        const arena: Range = { start: this.arena.address, end: this.arena.address + BigInt(this.arena.size) };
        const ranges = releasableNow(arena, pageSize());
        if (ranges.length >= RELEASE_CALLS) throw new Error(`the process has ${ranges.length} ranges to release, more than the ${RELEASE_CALLS} planned for`);
        for (const r of ranges) natives.push({ fn: munmap, args: [r.start, r.end - r.start] });
        natives.push({ fn: munmap, args: [], unmapsRunContexts: true });
        return;
      }
      if (step.kind === 'report') {
        natives.push({ fn: write, args: [BigInt(channel.reportWrite), errnoAddress, 4n] });
        this.slots.push({ step: index, what: step.what, tolerate: [] });
        return;
      }
      const target = { fn: symbolAddress(step.fn), args: this.marshalArgs(step.args, step.report ?? step.fn) };
      if (step.report === undefined) {
        natives.push(target);
      } else {
        checked(target);
        this.slots.push({ step: index, what: step.report, tolerate: step.tolerate ?? [] });
      }
    });
    natives.forEach((native, i) => {
      native.blocked = unblockedFrom === undefined || i < unblockedFrom;
    });
    const { firstContext, stackTop } = this.link(natives);
    this.firstContext = firstContext;
    this.cloneStackTop = stackTop;
  }

  /** A step's arguments in native memory; a string the kernel cannot take (a NUL inside) is named with its step. */
  private marshalArgs(args: readonly ChainArg[], what: string): bigint[] {
    try {
      return args.map((a) => this.marshal(a));
    } catch (error) {
      throw new Error(`${what}: ${(error as Error).message}`);
    }
  }

  private marshal(arg: ChainArg): bigint {
    if (arg === null) return 0n;
    if (typeof arg === 'bigint') return BigInt.asUintN(64, arg);
    if (typeof arg === 'number') return BigInt.asUintN(64, BigInt(arg));
    if (typeof arg === 'string') return this.arena.cString(arg);
    if (arg instanceof Uint8Array) return this.arena.bytesAt(arg);
    if (arg instanceof ErrnoLocation) return this.errnoAddress;
    if (arg instanceof SockFprog) {
      const instructions = this.arena.bytesAt(arg.filter);
      const struct = Buffer.alloc(16);
      struct.writeUInt16LE(arg.filter.length / 8, 0);
      struct.writeBigUInt64LE(instructions, 8);
      return this.arena.bytesAt(struct);
    }
    if (arg instanceof ChainBufferOffset) return this.marshal(arg.buffer) + BigInt(arg.offset);
    if (arg instanceof ChainBuffer) {
      const known = this.shared.get(arg);
      if (known !== undefined) return known;
      const address = this.arena.bytesAt(arg.initial);
      this.shared.set(arg, address);
      return address;
    }
    return this.arena.cStringArray(arg);
  }

  /**
   * Lay out the stack and the contexts, and capture each context.
   *
   * One stack for all: a context runs to completion before glibc switches to
   * the next (uc_link), so the next may reuse the same memory, except for
   * what makecontext(3) writes onto the stack at compile time: the frame
   * the function starts with (x86_64: the return address into glibc's
   * __start_context, the arguments past the sixth, and uc_link; arm64: the
   * arguments past the eighth). So each context's stack top is its
   * predecessor's plus room for its own frame: context i runs below top[i]
   * and never writes above it, while every later context's frame lies at
   * or above top[i]. The stack starts with the depth every call may use and
   * a guard page below it; the child clone(2) makes starts on the same
   * stack (setcontext(3) runs there and moves to the first context's top).
   *
   *   [guard page][depth ...........][frame 0][frame 1][frame 2] ...
   *                                  ^ clone's stack top
   *                                           ^ top[0] ^ top[1]
   */
  private link(natives: readonly NativeCall[]): { firstContext: bigint; stackTop: bigint } {
    const c = libc();
    for (const native of natives) {
      if (native.contextArg === undefined) continue;
      // Placeholder: the context's address is known once the contexts are laid out below.
      native.args.push(0n);
    }
    const page = pageSize();
    const guard = this.arena.reserve(page, page);
    this.arena.guardPage(guard);
    const stackBottom = this.arena.reserve(STACK_DEPTH);
    if (stackBottom !== guard + page) throw new Error('the chain stack must start right above its guard page');
    const stackTop = stackBottom + STACK_DEPTH;
    const tops: number[] = [];
    let top = stackTop;
    for (const native of natives) {
      top += frameBytes(native.args.length + (native.unmapsRunContexts ? 2 : 0));
      tops.push(top);
    }
    if (this.arena.reserve(top - stackTop) !== stackTop) throw new Error('the chain stack frames must follow its depth');
    const offsets = natives.map(() => this.arena.reserve(CONTEXT_SIZE));
    natives.forEach((native, i) => {
      if (native.contextArg !== undefined) {
        const target = offsets[native.contextArg];
        if (target === undefined) throw new Error('a fork must be followed by more steps');
        native.args[native.args.length - 1] = this.arena.addressOf(target);
      }
      if (native.unmapsRunContexts) native.args.push(...this.runContexts(offsets, i, page));
    });
    // getcontext records the calling thread's signal mask in the context:
    // set the mask each context should run with while capturing it.
    const previous = Buffer.alloc(SIGSET_SIZE);
    c.pthreadSigmask(SIG_SETMASK, null, previous);
    const all = Buffer.alloc(SIGSET_SIZE, 0xff);
    const none = Buffer.alloc(SIGSET_SIZE);
    try {
      let mask: Buffer | undefined;
      natives.forEach((native, i) => {
        const wanted = native.blocked === false ? none : all;
        if (wanted !== mask) c.pthreadSigmask(SIG_SETMASK, wanted, null);
        mask = wanted;
        this.capture(native, offsets, i, stackBottom, (tops[i] as number) - stackBottom);
      });
    } finally {
      c.pthreadSigmask(SIG_SETMASK, previous, null);
    }
    const first = offsets[0];
    if (first === undefined) throw new Error('an empty call chain cannot be started');
    return { firstContext: this.arena.addressOf(first), stackTop: this.arena.addressOf(stackTop) };
  }

  /**
   * munmap's arguments for the contexts that have run by the time context
   * `i` runs: its own included, since setcontext(3) has loaded it by then,
   * and glibc finds the next one through the stack frame, not through it.
   * Whole pages only: the first and the next context's pages stay. (With
   * less than a page of them, the length is 0 and munmap fails harmlessly.)
   */
  private runContexts(offsets: readonly number[], i: number, page: number): [bigint, bigint] {
    const first = Math.ceil((offsets[0] as number) / page) * page;
    const next = offsets[i + 1];
    if (next === undefined) throw new Error('a release of memory must be followed by more steps');
    const end = Math.floor(next / page) * page;
    return [this.arena.addressOf(first), BigInt(Math.max(0, end - first))];
  }

  /** One context: captured (under the signal mask the caller set), on the shared stack up to its own top, linked to the next one. */
  private capture(native: NativeCall, offsets: readonly number[], i: number, stack: number, stackSize: number): void {
    const c = libc();
    const ctx = offsets[i] as number;
    if (c.getcontext(this.arena.addressOf(ctx)) !== 0) throw new SyscallError('getcontext', lastErrno());
    const next = offsets[i + 1];
    this.arena.writeU64(ctx + UC_LINK, next === undefined ? 0n : this.arena.addressOf(next));
    this.arena.writeU64(ctx + UC_STACK_SP, this.arena.addressOf(stack));
    this.arena.writeI32(ctx + UC_STACK_FLAGS, 0);
    this.arena.writeU64(ctx + UC_STACK_SIZE, BigInt(stackSize));
    const varargs = native.args.flatMap((a) => ['uint64', a]);
    c.makecontext(this.arena.addressOf(ctx), native.fn, native.args.length, ...varargs);
  }
}

function errnoLocation(): bigint {
  // The child runs on a copy of this (the main) thread, TLS included, so its
  // errno lives at the same address as ours.
  return koffi().address(libc().errnoLocation());
}

/**
 * The stack bytes makecontext(3) writes for a call of `argc` arguments, from
 * the stack top down, rounded so that every top stays 16-byte aligned. On
 * x86_64, with e = max(0, argc - 6) arguments on the stack, glibc sets
 * sp = ((top - 8 * (e + 1)) & -16) - 8 and writes sp[0] (the return
 * address), sp[1..e] and sp[e + 1] (uc_link): at most 8 * e + 24 bytes. On
 * arm64 only arguments past the eighth go on the stack, which is less.
 */
export function frameBytes(argc: number): number {
  const onStack = Math.max(0, argc - 6);
  return Math.ceil((8 * onStack + 24) / 16) * 16;
}

/**
 * An upper bound of the arena's size. Bytes that are never written cost
 * nothing (the arena is a fresh mapping), so it may be generous.
 */
function estimateSize(steps: readonly ChainStep[]): number {
  let bytes = FORK_STACK + STACK_DEPTH + 2 * pageSize() + 4096;
  for (const step of steps) {
    const contexts =
      step.kind === 'unblock-signals' ? 0 : step.kind === 'call' && step.report === undefined ? 1 : step.kind === 'fork' ? 4 : step.kind === 'release-memory' ? RELEASE_CALLS : 3;
    bytes += contexts * (CONTEXT_SIZE + 64);
    if (step.kind === 'call') {
      for (const arg of step.args) bytes += argumentSize(arg) + 16;
    }
  }
  return bytes;
}

function argumentSize(arg: ChainArg): number {
  if (typeof arg === 'string') return Buffer.byteLength(arg) + 1;
  if (arg instanceof Uint8Array) return arg.length;
  if (arg instanceof ChainBuffer) return arg.initial.length;
  if (arg instanceof ChainBufferOffset) return 0;
  if (arg instanceof SockFprog) return arg.filter.length + 32;
  if (arg instanceof ErrnoLocation) return 0;
  if (Array.isArray(arg)) return arg.reduce((n: number, s: string) => n + Buffer.byteLength(s) + 9, 8);
  return 0;
}
