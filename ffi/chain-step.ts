/**
 * One step of the call chain the container's first process runs between
 * clone(2) and execve(2). Steps are plain data: the Linux subsystems produce
 * them (and unit tests read them); call-chain.ts turns them into native
 * contexts.
 *
 * Arguments are copied into native memory when the chain is compiled:
 * a string becomes a C string, a string[] a NULL-terminated array of C
 * strings, a Uint8Array a block of bytes; numbers and bigints are passed as
 * 64-bit register values; null is a NULL pointer.
 */
export type ChainArg = number | bigint | string | readonly string[] | Uint8Array | ChainBuffer | ChainBufferOffset | SockFprog | ErrnoLocation | null;

/** struct sock_fprog for seccomp(2): a length and a pointer to the filter instructions. */
export class SockFprog {
  constructor(readonly filter: Uint8Array) {
    if (filter.length % 8 !== 0) throw new Error('a BPF program is a whole number of 8-byte instructions');
  }
}

/** The address of the child's errno (the same TLS address as the parent's main thread's). */
export class ErrnoLocation {}
export const ERRNO = new ErrnoLocation();

/**
 * Native memory that several steps share: one step may read(2) into it and a
 * later one use it as an argument. The same object always marshals to the
 * same address.
 */
export class ChainBuffer {
  constructor(readonly initial: Uint8Array) {}

  /** The address `offset` bytes into this buffer. */
  at(offset: number): ChainBufferOffset {
    if (offset < 0 || offset >= this.initial.length) throw new Error(`offset ${offset} is outside a ${this.initial.length}-byte buffer`);
    return new ChainBufferOffset(this, offset);
  }
}

export class ChainBufferOffset {
  constructor(
    readonly buffer: ChainBuffer,
    readonly offset: number,
  ) {}
}

export interface CallStep {
  readonly kind: 'call';
  /** A glibc function that is a plain system-call wrapper (see docs/ARCHITECTURE.md). */
  readonly fn: string;
  readonly args: readonly ChainArg[];
  /**
   * When set, the step's errno is reported to the parent, which refuses to go
   * on past the next checkpoint if it is non-zero and not tolerated. The text
   * names the call and its subject for the error message.
   */
  readonly report?: string;
  /** errno names that count as success, e.g. EEXIST for a mkdir. */
  readonly tolerate?: readonly string[];
}

/** The child blocks until the parent has checked everything before it. */
export interface CheckpointStep {
  readonly kind: 'checkpoint';
  readonly name: string;
}

/**
 * Report errno as it stands, without zeroing it first: for a call whose
 * failure is only known by the fact that the chain is still running (execve).
 */
export interface ReportStep {
  readonly kind: 'report';
  readonly what: string;
}

/**
 * Every step before this one runs with all signals blocked, every step after
 * it with none: glibc's setcontext restores the signal mask each context
 * was captured with, so the mask is a property of the compiled contexts.
 */
export interface UnblockSignalsStep {
  readonly kind: 'unblock-signals';
}

/**
 * The process forks: a child (made with CLONE_PARENT, so it is tsrun's
 * child, not ours) goes on with the next steps, and this process reports
 * the clone and exits. A checkpoint must follow, so that the child's
 * reports come after the clone's.
 */
export interface ForkStep {
  readonly kind: 'fork';
  readonly what: string;
}

/**
 * From here on the process holds only what the rest of the chain runs on:
 * the compiler unmaps the copy of Node that clone(2) gave it (see
 * memory-map.ts), and the contexts of the steps that have already run. Its
 * calls are not checked: it may come after the last checkpoint, when the
 * parent reads no more reports. Planners put it before any seccomp filter
 * is installed, since a filter may forbid munmap(2).
 */
export interface ReleaseMemoryStep {
  readonly kind: 'release-memory';
}

export type ChainStep = CallStep | CheckpointStep | ReportStep | UnblockSignalsStep | ForkStep | ReleaseMemoryStep;

export function call(fn: string, args: readonly ChainArg[], report?: string, tolerate?: readonly string[]): CallStep {
  return { kind: 'call', fn, args, ...(report === undefined ? {} : { report }), ...(tolerate ? { tolerate } : {}) };
}

export function checkpoint(name: string): CheckpointStep {
  return { kind: 'checkpoint', name };
}

export function reportErrno(what: string): ReportStep {
  return { kind: 'report', what };
}

export function unblockSignals(): UnblockSignalsStep {
  return { kind: 'unblock-signals' };
}

export function fork(what: string): ForkStep {
  return { kind: 'fork', what };
}

export function releaseMemory(): ReleaseMemoryStep {
  return { kind: 'release-memory' };
}
