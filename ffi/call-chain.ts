import { koffi } from './koffi.js';
import { Arena } from './arena.js';
import { ChainBuffer, ChainBufferOffset, ErrnoLocation, SockFprog, type ChainArg, type ChainStep } from './chain-step.js';
import { CLONE_PARENT, SIG_SETMASK, SIGCHLD } from './constants.js';
import { lastErrno, libc, symbolAddress } from './libc.js';
import { pipe } from './pipe.js';
import { SyscallError } from './syscall-error.js';
import { SYS } from './syscall-numbers.js';

// glibc's ucontext_t layout (x86_64 and aarch64 agree on these offsets).
const UC_LINK = 8;
const UC_STACK_SP = 16;
const UC_STACK_FLAGS = 24;
const UC_STACK_SIZE = 32;
const CONTEXT_SIZE = process.arch === 'arm64' ? 4672 : 1024;
// Each context runs one libc wrapper plus glibc's trampoline frame.
const STEP_STACK = 16 * 1024;
const CLONE_STACK = 64 * 1024;
// The kernel's sigset_t is 8 bytes; glibc's, which pthread_sigmask takes, 128.
const SIGSET_SIZE = 128;

/** What the parent expects in the report pipe, in order. */
export interface ReportSlot {
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
 * A chain compiled into native memory: one ucontext per libc call, each on its
 * own stack, linked through uc_link so that glibc runs them back to back.
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
    const forkStack = steps.some((s) => s.kind === 'fork') ? this.arena.addressOf(this.arena.reserve(CLONE_STACK) + CLONE_STACK) : 0n;
    steps.forEach((step, index) => {
      if (step.kind === 'fork' && steps[index + 1]?.kind !== 'checkpoint') {
        throw new Error(`the chain's fork "${step.what}" must be followed by a checkpoint`);
      }
    });
    for (const step of steps) {
      if (step.kind === 'fork') {
        // clone(setcontext, stack, CLONE_PARENT | SIGCHLD, <the context after exit_group>):
        // the child starts at the next step; this process reports and exits.
        const clone: NativeCall = { fn: symbolAddress('clone'), args: [symbolAddress('setcontext'), forkStack, BigInt(CLONE_PARENT | SIGCHLD)] };
        checked(clone);
        natives.push({ fn: symbolAddress('syscall'), args: [BigInt(SYS.exit_group), 0n] });
        clone.contextArg = natives.length;
        this.slots.push({ what: step.what, tolerate: [] });
        continue;
      }
      if (step.kind === 'unblock-signals') {
        unblockedFrom = natives.length;
        continue;
      }
      if (step.kind === 'checkpoint') {
        checked({ fn: symbolAddress('read'), args: [BigInt(channel.syncRead), syncByte, 1n] });
        this.slots.push({ what: `checkpoint ${step.name}`, tolerate: [], checkpoint: step.name });
        continue;
      }
      if (step.kind === 'report') {
        natives.push({ fn: write, args: [BigInt(channel.reportWrite), errnoAddress, 4n] });
        this.slots.push({ what: step.what, tolerate: [] });
        continue;
      }
      const target = { fn: symbolAddress(step.fn), args: this.marshalArgs(step.args, step.report ?? step.fn) };
      if (step.report === undefined) {
        natives.push(target);
      } else {
        checked(target);
        this.slots.push({ what: step.report, tolerate: step.tolerate ?? [] });
      }
    }
    natives.forEach((native, i) => {
      native.blocked = unblockedFrom === undefined || i < unblockedFrom;
    });
    this.firstContext = this.link(natives);
    this.cloneStackTop = this.arena.addressOf(this.arena.reserve(CLONE_STACK) + CLONE_STACK);
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

  private link(natives: readonly NativeCall[]): bigint {
    const c = libc();
    const offsets = natives.map(() => this.arena.reserve(CONTEXT_SIZE));
    for (const native of natives) {
      if (native.contextArg === undefined) continue;
      const target = offsets[native.contextArg];
      if (target === undefined) throw new Error('a fork must be followed by more steps');
      native.args.push(this.arena.addressOf(target));
    }
    // getcontext records the calling thread's signal mask in the context:
    // set the mask each context should run with while capturing it.
    const previous = Buffer.alloc(SIGSET_SIZE);
    c.pthreadSigmask(SIG_SETMASK, null, previous);
    const all = Buffer.alloc(SIGSET_SIZE, 0xff);
    const none = Buffer.alloc(SIGSET_SIZE);
    try {
      natives.forEach((native, i) => this.capture(native, offsets, i, native.blocked === false ? none : all));
    } finally {
      c.pthreadSigmask(SIG_SETMASK, previous, null);
    }
    const first = offsets[0];
    if (first === undefined) throw new Error('an empty call chain cannot be started');
    return this.arena.addressOf(first);
  }

  /** One context: captured under `mask`, on its own stack, linked to the next one. */
  private capture(native: NativeCall, offsets: readonly number[], i: number, mask: Buffer): void {
    const c = libc();
    const ctx = offsets[i] as number;
    c.pthreadSigmask(SIG_SETMASK, mask, null);
    if (c.getcontext(this.arena.addressOf(ctx)) !== 0) throw new SyscallError('getcontext', lastErrno());
    const next = offsets[i + 1];
    const stack = this.arena.reserve(STEP_STACK);
    this.arena.writeU64(ctx + UC_LINK, next === undefined ? 0n : this.arena.addressOf(next));
    this.arena.writeU64(ctx + UC_STACK_SP, this.arena.addressOf(stack));
    this.arena.writeI32(ctx + UC_STACK_FLAGS, 0);
    this.arena.writeU64(ctx + UC_STACK_SIZE, BigInt(STEP_STACK));
    const varargs = native.args.flatMap((a) => ['uint64', a]);
    c.makecontext(this.arena.addressOf(ctx), native.fn, native.args.length, ...varargs);
  }
}

function errnoLocation(): bigint {
  // The child runs on a copy of this (the main) thread, TLS included, so its
  // errno lives at the same address as ours.
  return koffi().address(libc().errnoLocation());
}

function estimateSize(steps: readonly ChainStep[]): number {
  let bytes = 2 * CLONE_STACK + 4096;
  for (const step of steps) {
    const contexts = step.kind === 'unblock-signals' ? 0 : step.kind === 'call' && step.report === undefined ? 1 : step.kind === 'fork' ? 4 : 3;
    bytes += contexts * (CONTEXT_SIZE + STEP_STACK + 32);
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
