import { readFileSync } from 'node:fs';
import { CompiledChain, type ChainChannel, type ReportSlot } from './call-chain.js';
import type { ChainStep } from './chain-step.js';
import { SIG_BLOCK, SIG_SETMASK, SIGCHLD } from './constants.js';
import { lastErrno, libc, symbolAddress } from './libc.js';
import { errnoName, SyscallError } from './syscall-error.js';

/** A step of the chain failed; `slot` says which, `errno` how. */
export class StepFailedError extends SyscallError {
  constructor(readonly slot: ReportSlot, errno: number, hint?: string) {
    super(slot.what, errno, undefined, hint);
    this.name = 'StepFailedError';
  }
}

/**
 * The container's first process while it is still running our call chain.
 * The parent walks it from checkpoint to checkpoint: read the reports of the
 * steps before the checkpoint, check them (and whatever the kernel shows in
 * /proc/<pid>), then release it.
 */
export class Puppet {
  private next = 0;
  private exited = false;
  private exitStatus: number | undefined;
  /** The errno each step reported (0 for success), by its index in the planned steps. */
  private readonly outcomes = new Map<number, number>();

  private constructor(
    private current: number,
    private readonly channel: ChainChannel,
    private readonly slots: readonly ReportSlot[],
    /** tsrun's children before this one: a forked chain's child is the one not among them. */
    private readonly siblings: ReadonlySet<number>,
  ) {}

  /** The process running the chain (after a fork step: the child that goes on). */
  get pid(): number {
    return this.current;
  }

  /**
   * Compile `steps` and start them in a new process made by
   * clone(setcontext, ..., flags | SIGCHLD, first context). The steps were
   * planned for `channel` (from openChannel), whose fds they name; the
   * puppet owns it from here.
   */
  static launch(cloneFlags: number, channel: ChainChannel, steps: readonly ChainStep[]): Puppet {
    const chain = new CompiledChain(steps, channel);
    const siblings = new Set(steps.some((step) => step.kind === 'fork') ? ownChildren() : []);
    const c = libc();
    // The child starts with the parent thread's signal mask: block everything
    // so none of Node's handlers can run in it before the chain resets them.
    const all = Buffer.alloc(128, 0xff);
    const previous = Buffer.alloc(128);
    c.pthreadSigmask(SIG_BLOCK, all, previous);
    let pid: number;
    let errno = 0;
    try {
      pid = c.clone(symbolAddress('setcontext'), chain.cloneStackTop, cloneFlags | SIGCHLD, chain.firstContext);
      errno = lastErrno();
    } finally {
      c.pthreadSigmask(SIG_SETMASK, previous, null);
      // The child has its own copy of the arena now.
      chain.arena.release();
    }
    c.close(channel.syncRead);
    c.close(channel.reportWrite);
    if (pid < 0) {
      c.close(channel.syncWrite);
      c.close(channel.reportRead);
      throw new SyscallError('clone', errno, `flags 0x${cloneFlags.toString(16)}`, cloneHint(errno));
    }
    return new Puppet(pid, channel, chain.slots, siblings);
  }

  /** Block until the child waits at checkpoint `name`; throw on any failed step before it. */
  reachCheckpoint(name: string): void {
    for (;;) {
      const slot = this.slots[this.next];
      if (slot === undefined) throw new Error(`the chain has no checkpoint ${name}`);
      if (slot.checkpoint === name) return;
      this.consume(slot);
    }
  }

  /**
   * At the checkpoint after a fork step: the process that forked has
   * reported and exits; reap it and follow its child, which CLONE_PARENT
   * made a child of tsrun.
   */
  followFork(): void {
    const forker = this.current;
    waitBlocking(forker);
    const forked = ownChildren().filter((pid) => !this.siblings.has(pid) && pid !== forker);
    if (forked.length !== 1) throw new Error(`the chain forked, but tsrun sees ${forked.length} new children (${forked.join(', ')}) instead of one`);
    this.current = forked[0] as number;
  }

  /** Let the child run on from the checkpoint it waits at. */
  release(): void {
    const slot = this.slots[this.next];
    if (slot?.checkpoint === undefined) throw new Error('release() called while the child is not at a checkpoint');
    if (libc().write(this.channel.syncWrite, Buffer.from([1]), 1) !== 1) {
      throw new SyscallError('write', lastErrno(), 'the sync pipe', 'the container process died');
    }
    this.consume(slot);
  }

  /**
   * The errno step `step` (an index into the planned steps) reported: 0, or
   * one it tolerated. A tolerated errno is still an answer from the kernel
   * (EEXIST: the directory was already there), which a checkpoint may need.
   */
  errnoOf(step: number): number {
    const errno = this.outcomes.get(step);
    if (errno === undefined) throw new Error(`step ${step} of the chain has not reported (yet), or is not a checked step`);
    return errno;
  }

  private consume(slot: ReportSlot): void {
    const errno = this.readReport(slot);
    this.next += 1;
    this.outcomes.set(slot.step, errno);
    if (errno !== 0 && !slot.tolerate.includes(errnoName(errno))) throw new StepFailedError(slot, errno);
  }

  private readReport(slot: ReportSlot): number {
    const word = Buffer.alloc(4);
    let got = 0;
    while (got < 4) {
      const chunk = Buffer.alloc(4 - got);
      const n = Number(libc().read(this.channel.reportRead, chunk, chunk.length));
      if (n < 0 && lastErrno() === 4 /* EINTR */) continue;
      if (n <= 0) {
        throw new Error(`the container process ended before it reported "${slot.what}" (${this.describeExit()})`);
      }
      chunk.copy(word, got, 0, n);
      got += n;
    }
    return word.readInt32LE(0);
  }

  /**
   * After `start`: the errno of a failed execve, or undefined once execve
   * succeeded (the report pipe is close-on-exec, so success reads as EOF).
   */
  execOutcome(): number | undefined {
    const word = Buffer.alloc(4);
    for (;;) {
      const n = Number(libc().read(this.channel.reportRead, word, 4));
      if (n < 0 && lastErrno() === 4 /* EINTR */) continue;
      if (n === 4) return word.readInt32LE(0);
      return undefined;
    }
  }

  /** Wait for the process to exit on a worker thread, so the event loop keeps running (signals). */
  waitForExit(): Promise<number> {
    return new Promise((resolve, reject) => {
      const status = [0];
      libc().waitpid.async(this.pid, status, 0, (error: unknown, result: number) => {
        if (error !== null && error !== undefined) return reject(error as Error);
        if (result !== this.pid) return reject(new Error(`waitpid(${this.pid}) returned ${result}`));
        this.exited = true;
        resolve(status[0] ?? 0);
      });
    });
  }

  /** Close our ends of the pipes; the child sees EOF / EPIPE from here on. */
  detach(): void {
    libc().close(this.channel.syncWrite);
    libc().close(this.channel.reportRead);
  }

  kill(signal = 9): void {
    if (!this.exited) libc().kill(this.pid, signal);
  }

  /** Reap the child (blocking). Returns the raw wait status; a second call returns the first result. */
  reap(): number {
    if (this.exitStatus !== undefined) return this.exitStatus;
    this.exitStatus = waitBlocking(this.pid);
    this.exited = true;
    return this.exitStatus;
  }

  private describeExit(): string {
    const status = [0];
    const r = libc().waitpid(this.pid, status, 1 /* WNOHANG */);
    if (r !== this.pid) return 'still running';
    this.exited = true;
    return describeWaitStatus(status[0] ?? 0);
  }
}

/** Children of Node's main thread (the one that clones), from procfs. */
function ownChildren(): number[] {
  const pid = process.pid;
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    .split(' ')
    .filter((p) => p !== '')
    .map(Number);
}

/** waitpid(2) for `pid`, blocking, through EINTR; its raw wait status. */
function waitBlocking(pid: number): number {
  const status = [0];
  for (;;) {
    const r = libc().waitpid(pid, status, 0);
    if (r === pid) return status[0] ?? 0;
    if (r < 0 && lastErrno() !== 4 /* EINTR */) throw new SyscallError('waitpid', lastErrno(), `pid ${pid}`);
  }
}

/** A raw wait status: the signal that killed the process (0 if none), else its exit code. */
export function decodeWaitStatus(status: number): { signal: number; code: number } {
  return { signal: status & 0x7f, code: (status >> 8) & 0xff };
}

export function describeWaitStatus(status: number): string {
  const { signal, code } = decodeWaitStatus(status);
  return signal === 0 ? `exit status ${code}` : `killed by signal ${signal}`;
}

function cloneHint(errno: number): string | undefined {
  if (errnoName(errno) === 'EPERM') return 'creating these namespaces needs CAP_SYS_ADMIN (or a user namespace in the config)';
  if (errnoName(errno) === 'ENOSPC') return 'a namespace limit in /proc/sys/user/max_*_namespaces is reached';
  if (errnoName(errno) === 'EINVAL') return 'the kernel refused this combination of namespace flags';
  return undefined;
}
