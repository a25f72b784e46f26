import { describe, expect, it } from 'vitest';
import { parseSignal, UnknownSignalError } from '../../../src/runtime/signals.js';

describe('parseSignal', () => {
  it('defaults to SIGTERM', () => {
    expect(parseSignal(undefined)).toBe(15);
  });

  it.each([
    ['KILL', 9],
    ['SIGKILL', 9],
    ['sigkill', 9],
    ['term', 15],
    ['Hup', 1],
    ['SIGUSR2', 12],
    ['WINCH', 28],
  ])('reads the name %j', (raw, signal) => {
    expect(parseSignal(raw)).toBe(signal);
  });

  it.each([
    ['9', 9],
    ['0', 0],
    ['64', 64],
  ])('reads the number %j', (raw, signal) => {
    expect(parseSignal(raw)).toBe(signal);
  });

  it.each([
    ['SIGRTMIN', 34],
    ['RTMIN+3', 37],
    ['sigrtmin+30', 64],
    ['SIGRTMAX', 64],
    ['RTMAX-2', 62],
  ])('reads the real-time signal %j', (raw, signal) => {
    expect(parseSignal(raw)).toBe(signal);
  });

  it.each(['FOO', 'SIG', '', '-9', '65', '9x', 'RTMIN+31', 'RTMAX+1', 'RTMIN-1', 'KILL9'])('rejects %j', (raw) => {
    expect(() => parseSignal(raw)).toThrow(UnknownSignalError);
    expect(() => parseSignal(raw)).toThrow(`unknown signal ${JSON.stringify(raw)}`);
  });
});
