import { constants } from 'node:os';

// glibc reserves the first two real-time signals for its threads, so the
// SIGRTMIN that users (and `kill -l`) know is 34, not the kernel's 32.
export const SIGRTMIN = 34;
export const SIGRTMAX = 64;

export class UnknownSignalError extends Error {
  constructor(raw: string, why: string) {
    super(`unknown signal ${JSON.stringify(raw)}: ${why}`);
    this.name = 'UnknownSignalError';
  }
}

/**
 * A signal argument as runc takes it: a number, or a name with or without the
 * SIG prefix in any case ("TERM", "sigkill"), or SIGRTMIN+n / SIGRTMAX-n.
 * Absent means SIGTERM.
 */
export function parseSignal(raw: string | undefined): number {
  if (raw === undefined) return constants.signals.SIGTERM;
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    // 0 is valid: it probes whether the process exists without signalling it.
    if (n > SIGRTMAX) throw new UnknownSignalError(raw, `signal numbers go from 0 to ${SIGRTMAX}`);
    return n;
  }
  const upper = raw.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  const named = (constants.signals as Record<string, number | undefined>)[name];
  if (named !== undefined) return named;
  const realtime = realtimeSignal(name);
  if (realtime !== undefined) return realtime;
  throw new UnknownSignalError(raw, 'expected a number, a name such as TERM or SIGKILL, or SIGRTMIN+n');
}

function realtimeSignal(name: string): number | undefined {
  const match = /^SIGRT(MIN|MAX)(?:([+-])(\d+))?$/.exec(name);
  if (match === null) return undefined;
  const [, base, sign, offset] = match;
  const from = base === 'MIN' ? SIGRTMIN : SIGRTMAX;
  const delta = offset === undefined ? 0 : Number(offset) * (sign === '+' ? 1 : -1);
  const signal = from + delta;
  return signal >= SIGRTMIN && signal <= SIGRTMAX ? signal : undefined;
}
