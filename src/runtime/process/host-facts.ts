import { readFileSync } from 'node:fs';

/** The highest capability number this kernel knows. */
export function lastCapability(): number {
  return Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
}

/**
 * Signals whose disposition this Node process changed (caught or ignored).
 * The container process starts as a copy of it, so it must put them back
 * to SIG_DFL before execve: an ignored SIGPIPE would survive the exec.
 */
export function alteredSignals(): number[] {
  const status = readFileSync('/proc/self/status', 'utf8');
  const mask = (name: string) => BigInt(`0x${new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(status)?.[1] ?? '0'}`);
  const altered = mask('SigCgt') | mask('SigIgn');
  const signals: number[] = [];
  for (let signal = 1; signal <= 64; signal += 1) {
    // SIGKILL and SIGSTOP cannot be changed (nor reset).
    if (signal !== 9 && signal !== 19 && (altered & (1n << BigInt(signal - 1))) !== 0n) signals.push(signal);
  }
  return signals;
}
