import { call, checkpoint, fork, releaseMemory, reportErrno, unblockSignals, type ChainArg, type ChainStep } from '../../ffi/chain-step.js';
import { O, RESOLVE } from '../../ffi/constants.js';
import { SYS } from '../../ffi/syscall-numbers.js';
import type { Checkpoint } from './checkpoints.js';
import { closeRangesExcept, FdTable } from './fd-table.js';

type Syscall = keyof typeof SYS;

/**
 * Appends chain steps and keeps the planned fd table in step with them, so
 * that a planner can write "open this, mount onto it, close it" and get the
 * fd numbers the kernel will hand out.
 */
export class ChainWriter {
  readonly steps: ChainStep[] = [];
  /** The checkpoints written so far, in order. */
  readonly checkpoints: Checkpoint[] = [];

  constructor(readonly fds: FdTable) {}

  /** An unchecked call: its failure is not reported (use for best-effort resets). */
  call(fn: string, args: readonly ChainArg[]): void {
    this.steps.push(call(fn, args));
  }

  /**
   * A call whose errno is reported and checked at the next checkpoint.
   * Returns the step's index, by which the parent can ask the errno it
   * reported (Puppet.errnoOf), a tolerated one included.
   */
  check(what: string, fn: string, args: readonly ChainArg[], tolerate?: readonly string[]): number {
    return this.steps.push(call(fn, args, what, tolerate)) - 1;
  }

  /** A raw syscall(2), checked. */
  sys(what: string, name: Syscall, args: readonly ChainArg[], tolerate?: readonly string[]): number {
    return this.check(what, 'syscall', [SYS[name], ...args], tolerate);
  }

  checkpoint(name: Checkpoint): void {
    this.steps.push(checkpoint(name));
    this.checkpoints.push(name);
  }

  /** The process forks; its child goes on with the next steps (see ForkStep). */
  fork(what: string): void {
    this.steps.push(fork(what));
  }

  /** Steps after this one run with no signal blocked (before it: all blocked). */
  unblockSignals(): void {
    this.steps.push(unblockSignals());
  }

  /** From here the process keeps only what the rest of the chain runs on (see ReleaseMemoryStep). */
  releaseMemory(): void {
    this.steps.push(releaseMemory());
  }

  /** Report errno as the previous unchecked call left it. */
  reportErrno(what: string): void {
    this.steps.push(reportErrno(what));
  }

  /**
   * openat2(dirFd, path, flags, RESOLVE_IN_ROOT): `path` resolves as if dirFd
   * were "/", so no symlink in the container's rootfs can lead outside it.
   */
  openInRoot(what: string, dirFd: number, path: string, flags: number, mode = 0): number {
    const how = Buffer.alloc(24);
    how.writeBigUInt64LE(BigInt(flags | O.CLOEXEC), 0);
    how.writeBigUInt64LE(BigInt(mode), 8);
    how.writeBigUInt64LE(BigInt(RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS), 16);
    this.sys(what, 'openat2', [dirFd, relative(path), how, how.length]);
    return this.fds.open();
  }

  open(what: string, path: string, flags: number, mode = 0): number {
    this.check(what, 'open', [path, flags | O.CLOEXEC, mode]);
    return this.fds.open();
  }

  /**
   * Close every fd from `from` up except `kept`: all Node had open (and the
   * parent's ends of the pipes), so that from here on each open(2) returns
   * a number the planner predicted.
   */
  closeInherited(from: number, kept: readonly number[]): void {
    for (const [first, last] of closeRangesExcept(from, kept)) {
      this.check(`close_range(${first}, ${last})`, 'close_range', [first, last, 0]);
    }
  }

  /** open, one write(2) of `data`, close: how procfs and sysfs files take a value. */
  writeFile(what: string, path: string, data: string): void {
    const fd = this.open(`open ${path} (${what})`, path, O.WRONLY | O.TRUNC);
    this.check(`write ${JSON.stringify(data)} to ${path} (${what})`, 'write', [fd, data, Buffer.byteLength(data)]);
    this.close(fd);
  }

  close(fd: number): void {
    this.check(`close(${fd})`, 'close', [fd]);
    this.fds.close(fd);
  }
}

function relative(path: string): string {
  const trimmed = path.replace(/^\/+/, '');
  return trimmed === '' ? '.' : trimmed;
}
