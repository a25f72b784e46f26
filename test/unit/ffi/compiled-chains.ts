import { closeSync, openSync, readSync } from 'node:fs';
import { afterEach, expect } from 'vitest';
import { CompiledChain, type ChainChannel } from '../../../ffi/call-chain.js';
import type { ChainStep } from '../../../ffi/chain-step.js';

/** Chain fds that are not used until a chain runs: compiling only embeds the numbers. */
export const CHANNEL: ChainChannel = { syncRead: 100, syncWrite: 101, reportRead: 102, reportWrite: 103 };

const compiled: CompiledChain[] = [];
afterEach(() => {
  for (const chain of compiled.splice(0)) chain.arena.release();
});

/** Compile `steps` into native memory, released after the test. */
export function compile(steps: readonly ChainStep[]): CompiledChain {
  const chain = new CompiledChain(steps, CHANNEL);
  compiled.push(chain);
  return chain;
}

/** `length` bytes of this process's memory at `address`. */
export function readMemory(address: bigint, length: number): Buffer {
  const fd = openSync('/proc/self/mem', 'r');
  try {
    const bytes = Buffer.alloc(length);
    expect(readSync(fd, bytes, 0, length, address)).toBe(length);
    return bytes;
  } finally {
    closeSync(fd);
  }
}
