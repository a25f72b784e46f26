import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { relaySignals, signalRelayLibrary } from '../../../ffi/signal-relay.js';

const built = signalRelayLibrary();
if (built === undefined) console.warn('skipping the signal relay tests: dist/native/signal-relay.so is not built (npm run build, with a C compiler)');

/** Whether this process catches `signal` (SigCgt of /proc/self/status). */
function caught(signal: number): boolean {
  const mask = BigInt(`0x${/^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'}`);
  return (mask & (1n << BigInt(signal - 1))) !== 0n;
}

describe.skipIf(built === undefined)('relaySignals (the C helper)', () => {
  it('hands each real-time signal to Node in the order sent, and gives the default action back on stop', async () => {
    const got: number[] = [];
    const relay = relaySignals(40, 44, (signal) => got.push(signal));
    expect(relay).toBeDefined();
    expect([40, 41, 42, 43, 44].every(caught)).toBe(true);
    for (const signal of [44, 40, 42]) process.kill(process.pid, signal);
    for (let i = 0; i < 100 && got.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    // Real-time signals queue, so none is lost; the relay keeps their order.
    expect(got).toEqual([44, 40, 42]);
    relay?.stop();
    expect([40, 41, 42, 43, 44].some(caught)).toBe(false);
  });

  it('names sigaction when a signal cannot be caught, and leaves none caught', () => {
    // SIGKILL (9) cannot be caught: the range 8-9 fails at 9, after 8 was set.
    expect(() => relaySignals(8, 9, () => {})).toThrow(/^sigaction catching signals 8-9: EINVAL/);
    expect(caught(8)).toBe(false);
  });
});
