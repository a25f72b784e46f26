// Node knows every errno's name and message. node:util is loaded on the
// first error, not by every command: it costs a few ms of a `state`.
let systemErrors: Map<number, [string, string]> | undefined;
const systemError = (errno: number): [string, string] | undefined =>
  (systemErrors ??= process.getBuiltinModule('node:util').getSystemErrorMap()).get(-errno);

/** The symbolic name of an errno value, e.g. 2 -> "ENOENT". */
export function errnoName(errno: number): string {
  return systemError(errno)?.[0] ?? `errno ${errno}`;
}

/** The libc message of an errno value, e.g. 2 -> "no such file or directory". */
export function errnoMessage(errno: number): string {
  return systemError(errno)?.[1] ?? 'unknown error';
}

/**
 * A failed system call, reported the way an operator needs it: which call, on
 * what (path, fd, value or config field), which errno, and what to do about it.
 */
export class SyscallError extends Error {
  readonly code: string;

  constructor(
    readonly syscall: string,
    readonly errno: number,
    readonly subject?: string,
    readonly hint?: string,
  ) {
    const on = subject === undefined ? '' : ` ${subject}`;
    const advice = hint === undefined ? '' : `: ${hint}`;
    super(`${syscall}${on}: ${errnoName(errno)} (${errnoMessage(errno)})${advice}`);
    this.name = 'SyscallError';
    this.code = errnoName(errno);
  }
}

/** A call refused for lack of permission (EACCES or EPERM): for checks an unprivileged tsrun may not make. */
export function isDenied(error: unknown): error is SyscallError {
  return error instanceof SyscallError && (error.code === 'EACCES' || error.code === 'EPERM');
}
