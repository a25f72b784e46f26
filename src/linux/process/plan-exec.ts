import { ChainBuffer, ERRNO, SockFprog } from '../../../ffi/chain-step.js';
import { F_SETFD, O, PR, SIG_DFL } from '../../../ffi/constants.js';
import { SYS } from '../../../ffi/syscall-numbers.js';
import type { ChainWriter } from '../chain-writer.js';
import type { CompiledSeccomp } from '../seccomp/compile-profile.js';
import { SECCOMP_SET_MODE_FILTER } from '../seccomp/plan-seccomp.js';
import type { FdTable } from '../fd-table.js';
import type { StartProgram } from './find-executable.js';

const SIGPIPE = 13;
const SIG_IGN = 1;

export interface ExecPlan {
  /** The executable inside the container (absolute), or the failure to report instead. */
  readonly program: StartProgram;
  readonly args: readonly string[];
  readonly env: readonly string[];
  /** fds 3 .. 3+n-1 that the container keeps (--preserve-fds and LISTEN_FDS). */
  readonly preservedFds: number;
  /**
   * The container's init waits at the exec fifo for `tsrun start`; without
   * a gate (`tsrun exec`) the process execs as soon as the parent releases
   * checkpoint "ready".
   */
  readonly startGate?: StartGate;
  /** Signals whose disposition Node changed (caught or ignored). */
  readonly signalsToReset: readonly number[];
  /** A seccomp filter to install as the very last step (the process has no_new_privs). */
  readonly lateSeccomp?: CompiledSeccomp;
}

export interface StartGate {
  /** O_PATH fd of the exec fifo, inherited from the parent. */
  readonly fifoFd: number;
  /** O_PATH fd of the host's /proc/self/fd, opened before pivot_root. */
  readonly procFdDir: number;
  /**
   * Give back the copy of Node right before the wait (see
   * ReleaseMemoryStep); false when the chain did so earlier, before a
   * seccomp filter.
   */
  readonly releaseMemory?: boolean;
  /** A foreground `run`'s init: it keeps dying with tsrun instead of outliving `create`. */
  readonly diesWithCaller?: boolean;
}

/**
 * The end of the chain: make the container's fds survive execve, give signals
 * back their defaults, stop at checkpoint "ready", then (for an init) wait
 * on the exec fifo for `tsrun start`, and execve.
 *
 * The wait cannot be followed by a branch, so the byte `start` writes into
 * the fifo is the first byte of the executable's path: if the wait fails,
 * the path stays empty and execve fails with ENOENT instead of starting
 * the container early.
 *
 * Without an executable (args[0] is missing or not executable) the chain
 * ends, after the wait, in what a shell does: the reason on stderr and exit
 * status 127 or 126.
 */
export function planExec(plan: ExecPlan, w: ChainWriter, fds: FdTable): void {
  // Inherited fds were closed at the start of the chain, and every fd the
  // chain opened since has been closed (FdTable checks it): only stdio, the
  // preserved fds and our close-on-exec ones are open here. No close_range
  // now: a seccomp filter may already be installed and may not allow it.
  const firstClosed = 3 + plan.preservedFds;
  for (let fd = 0; fd < firstClosed; fd += 1) {
    // Node may have opened its stdio close-on-exec; the container must keep them.
    w.check(`keep fd ${fd} open across execve`, 'fcntl', [fd, F_SETFD, 0], fd > 2 ? [] : ['EBADF']);
  }
  for (const signal of plan.signalsToReset) w.call('signal', [signal, SIG_DFL]);
  // Until here every step ran with all signals blocked (none of Node's
  // handlers may run in this process); from here, with none, as execve needs.
  w.unblockSignals();
  w.checkpoint('ready');
  // Until now the process dies with its parent (set at the start of the
  // chain). From here it must outlive `tsrun create` and wait for `start`,
  // unless the parent is a foreground `run`, which waits for it to exit.
  if (plan.startGate?.diesWithCaller !== true) w.call('prctl', [PR.SET_PDEATHSIG, 0, 0, 0, 0]);

  const executable = 'path' in plan.program ? plan.program.path : undefined;
  if (executable !== undefined && !executable.startsWith('/')) throw new Error(`the executable path ${executable} must be absolute here`);
  // guard[0] is scratch for the seccomp guard below; the path starts at guard[1].
  const gate = plan.startGate;
  const guard = new ChainBuffer(Buffer.from(`\0${gate === undefined ? '/' : '\0'}${(executable ?? '/').slice(1)}\0`));
  const path = guard.at(1);
  if (gate !== undefined) {
    // Reopen the fifo for reading through the host's procfs (not whatever
    // the image has at /proc): this blocks until `start` opens it to write.
    if (gate.releaseMemory === true) w.releaseMemory();
    const fifo = fds.open();
    w.call('openat', [gate.procFdDir, String(gate.fifoFd), O.RDONLY | O.CLOEXEC]);
    w.call('read', [fifo, path, 1]);
    w.call('close', [fifo]);
    w.call('close', [gate.fifoFd]);
    w.call('close', [gate.procFdDir]);
  }
  if ('missing' in plan.program) {
    const { message, exitCode } = plan.program.missing;
    const line = `tsrun: ${message}\n`;
    w.call('write', [2, line, Buffer.byteLength(line)]);
    w.call('syscall', [SYS.exit_group, exitCode]);
    return;
  }
  if (plan.lateSeccomp !== undefined) lateSeccomp(plan.lateSeccomp, guard, w);
  w.call('execve', [path, plan.args, plan.env]);
  // Still here: execve failed. Report it even if nobody listens any more.
  w.call('signal', [SIGPIPE, SIG_IGN]);
  w.reportErrno(`execve ${executable}`);
  w.call('syscall', [SYS.exit_group, 127]);
}


/**
 * Install the filter after the wait for `start`, as close to execve as
 * possible, and make a failed install stop the exec without a branch:
 * strcpy(guard, <errno as 4 bytes>) copies up to the first NUL. With errno
 * 0 that is one byte, guard[0]; with any errno (all below 256) it is two,
 * and guard[1], the first byte of the path, becomes NUL: execve("") fails.
 */
function lateSeccomp(compiled: CompiledSeccomp, guard: ChainBuffer, w: ChainWriter): void {
  w.call('memset', [ERRNO, 0, 4]);
  w.call('syscall', [SYS.seccomp, SECCOMP_SET_MODE_FILTER, compiled.flags, new SockFprog(compiled.filter)]);
  w.call('strcpy', [guard, ERRNO]);
}
