import { constants } from 'node:os';
import { decodeWaitStatus, relaySignals, type Puppet } from '../../linux/kernel.js';
import { logger } from '../log.js';
import { SIGRTMAX, SIGRTMIN } from '../signals.js';

/**
 * Signals a foreground `run` or `exec` does not pass on: those no process can
 * catch (SIGKILL, SIGSTOP); SIGCHLD, which is about tsrun's own children;
 * SIGURG, which runc ignores too; and the faults (SIGSEGV, SIGBUS, SIGFPE,
 * SIGILL), which, raised by the kernel, mean tsrun itself is broken.
 * The aliases SIGIOT and SIGPOLL are the same numbers as SIGABRT and SIGIO.
 */
const NOT_FORWARDED = new Set(['SIGKILL', 'SIGSTOP', 'SIGCHLD', 'SIGURG', 'SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL', 'SIGIOT', 'SIGPOLL']);

/**
 * Every other signal Node can name, as runc forwards every signal it gets.
 * Node has no names for the real-time signals (SIGRTMIN..SIGRTMAX): those
 * come through the C helper (ffi/signal-relay.ts, docs/process.md).
 */
export const FORWARDED: readonly NodeJS.Signals[] = (Object.keys(constants.signals) as NodeJS.Signals[]).filter((s) => !NOT_FORWARDED.has(s));

/** Signals tsrun receives, held until the process they are for exists. */
export interface SignalRelay {
  /** From now on, and for those held until now, signal this pid. */
  forwardTo(pid: number): void;
  /** Stop listening: the signals' default actions apply to tsrun again. */
  release(): void;
}

/**
 * Listen before anything is created, as runc does: a signal that arrives
 * between start and the wait (an engine's SIGTERM, a user's ^C) would
 * otherwise kill tsrun by its default action and leave the container
 * running with no one waiting for it. With `hold: false` (a detached run or
 * exec, which does not wait) nothing is listened for.
 */
function holdSignals(hold: boolean): SignalRelay {
  if (!hold) return { forwardTo: () => {}, release: () => {} };
  let target: number | undefined;
  const held: Array<NodeJS.Signals | number> = [];
  const send = (pid: number, signal: NodeJS.Signals | number) => {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone: the exit status arrives next.
    }
  };
  const forward = (signal: NodeJS.Signals | number) => (target === undefined ? held.push(signal) : send(target, signal));
  for (const signal of FORWARDED) process.on(signal, forward);
  const realtime = relaySignals(SIGRTMIN, SIGRTMAX, forward);
  if (realtime === undefined) {
    logger.debug(`real-time signals are not passed on: the helper dist/native/signal-relay.so was not built (no C compiler at npm run build)`);
  }
  return {
    forwardTo(pid) {
      target = pid;
      for (const signal of held.splice(0)) send(pid, signal);
    },
    release() {
      realtime?.stop();
      for (const signal of FORWARDED) process.off(signal, forward);
    },
  };
}

/** Runs `body` with signals held from now (holdSignals), and released when it settles. */
export async function withSignalsHeld<T>(hold: boolean, body: (relay: SignalRelay) => Promise<T>): Promise<T> {
  const relay = holdSignals(hold);
  try {
    return await body(relay);
  } finally {
    relay.release();
  }
}

/**
 * Wait for a process tsrun started (it has execve'd already), forwarding
 * the signals tsrun received since `relay` was made and receives meanwhile;
 * resolves to the exit code tsrun should exit with: the process's own, or
 * 128+n if a signal ended it.
 */
export async function waitInForeground(puppet: Puppet, relay: SignalRelay): Promise<number> {
  relay.forwardTo(puppet.pid);
  return exitCode(await puppet.waitForExit());
}

function exitCode(status: number): number {
  const { signal, code } = decodeWaitStatus(status);
  return signal === 0 ? code : 128 + signal;
}
