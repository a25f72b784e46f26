import { constants } from 'node:os';
import type { HostKernel } from '../../../ffi/host-kernel.js';
import { SyscallError } from '../../../ffi/syscall-error.js';

/** One call made through the HostKernel interface, with its arguments. */
export type KernelCall =
  | { readonly op: 'writeFile'; readonly path: string; readonly data: string; readonly field: string | undefined }
  | { readonly op: 'readFile'; readonly path: string }
  | { readonly op: 'mkdir'; readonly path: string }
  | { readonly op: 'rmdir'; readonly path: string }
  | {
      readonly op: 'prlimit';
      readonly pid: number;
      readonly resource: number;
      readonly soft: bigint;
      readonly hard: bigint;
      readonly field: string;
    }
  | { readonly op: 'kill'; readonly pid: number; readonly signal: number };

export type KernelOp = KernelCall['op'];
export type CallOf<Op extends KernelOp> = Extract<KernelCall, { op: Op }>;

interface Failure {
  readonly op: KernelOp;
  readonly errno: number;
  readonly when: (call: KernelCall) => boolean;
  readonly hint: string | undefined;
  remaining: number;
}

/** errno by number or by name ("EPERM"), as the kernel's positive value. */
export function errnoNumber(errno: number | string): number {
  if (typeof errno === 'number') return errno;
  const n = (constants.errno as Record<string, number | undefined>)[errno];
  if (n === undefined) throw new Error(`unknown errno name ${errno}`);
  return n;
}

/**
 * A HostKernel that makes no system call: it records every call in order and
 * answers readFile from `files`. A call can be made to fail with an errno,
 * thrown as the SyscallError the real hostKernel would throw (same syscall
 * name and subject), so callers' error handling can be tested.
 */
export class RecordingKernel implements HostKernel {
  /** Every call, failed ones included, in the order they were made. */
  readonly calls: KernelCall[] = [];
  /** The calls that were made to fail, with what was thrown. */
  readonly failures: Array<{ readonly call: KernelCall; readonly error: SyscallError }> = [];
  /** What readFile returns (and what a successful writeFile leaves), by path. */
  readonly files = new Map<string, string>();
  private readonly planned: Failure[] = [];

  constructor(files: Record<string, string> = {}) {
    for (const [path, text] of Object.entries(files)) this.files.set(path, text);
  }

  /**
   * Make calls of `op` (those `when` accepts; all by default) fail with
   * `errno`, `times` times (every time by default).
   */
  failOn<Op extends KernelOp>(
    op: Op,
    errno: number | string,
    options: { when?: (call: CallOf<Op>) => boolean; times?: number; hint?: string } = {},
  ): this {
    const when = options.when;
    this.planned.push({
      op,
      errno: errnoNumber(errno),
      when: (call) => call.op === op && (when === undefined || when(call as CallOf<Op>)),
      hint: options.hint,
      remaining: options.times ?? Number.POSITIVE_INFINITY,
    });
    return this;
  }

  /** The recorded calls of one kind. */
  callsTo<Op extends KernelOp>(op: Op): Array<CallOf<Op>> {
    return this.calls.filter((c): c is CallOf<Op> => c.op === op);
  }

  /** The calls as short lines ("writeFile /proc/1/uid_map"), for order checks. */
  summary(): string[] {
    return this.calls.map((c) => {
      switch (c.op) {
        case 'writeFile':
        case 'readFile':
        case 'mkdir':
        case 'rmdir':
          return `${c.op} ${c.path}`;
        case 'prlimit':
          return `prlimit ${c.pid} ${c.resource}`;
        case 'kill':
          return `kill ${c.pid} ${c.signal}`;
      }
    });
  }

  writeFile(path: string, data: string, field?: string): void {
    this.enter({ op: 'writeFile', path, data, field }, 'write', field === undefined ? path : `${path} (${field})`);
    this.files.set(path, data);
  }

  readFile(path: string): string {
    this.enter({ op: 'readFile', path }, 'read', path);
    const text = this.files.get(path);
    if (text === undefined) throw new SyscallError('read', errnoNumber('ENOENT'), path);
    return text;
  }

  mkdir(path: string): void {
    this.enter({ op: 'mkdir', path }, 'mkdir', path);
  }

  rmdir(path: string): void {
    this.enter({ op: 'rmdir', path }, 'rmdir', path);
  }

  prlimit(pid: number, resource: number, soft: bigint, hard: bigint, field: string): void {
    this.enter({ op: 'prlimit', pid, resource, soft, hard, field }, 'prlimit', field);
  }

  kill(pid: number, signal: number): void {
    this.enter({ op: 'kill', pid, signal }, 'kill', `pid ${pid}`);
  }

  private enter(call: KernelCall, syscall: string, subject: string): void {
    this.calls.push(call);
    const failure = this.planned.find((f) => f.remaining > 0 && f.when(call));
    if (failure === undefined) return;
    failure.remaining -= 1;
    const error = new SyscallError(syscall, failure.errno, subject, failure.hint);
    this.failures.push({ call, error });
    throw error;
  }
}
