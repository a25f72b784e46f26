import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CompiledChain } from '../../../ffi/call-chain.js';
import { call, checkpoint, reportErrno, unblockSignals, type ChainStep } from '../../../ffi/chain-step.js';
import { SIG_SETMASK } from '../../../ffi/constants.js';
import { libc } from '../../../ffi/libc.js';
import { compile, readMemory } from './compiled-chains.js';

/*
 * glibc's setcontext restores the signal mask each context was captured
 * with, so CompiledChain sets the mask while it captures each one: all
 * signals blocked before an "unblock-signals" step, none after it. These
 * tests compile chains (nothing runs) and read each context's uc_sigmask
 * back through /proc/self/mem, following uc_link from the first context.
 */

// glibc's ucontext_t: uc_flags, uc_link, uc_stack (24 bytes), then on x86_64
// the 256-byte mcontext_t before uc_sigmask; on aarch64 uc_sigmask comes first.
const UC_LINK = 8;
const UC_SIGMASK = process.arch === 'arm64' ? 40 : 296;


/** The kernel part (64 signals) of each context's uc_sigmask, in run order. */
function contextMasks(chain: CompiledChain): bigint[] {
  const masks: bigint[] = [];
  for (let ctx = chain.firstContext; ctx !== 0n; ctx = readMemory(ctx + BigInt(UC_LINK), 8).readBigUInt64LE(0)) {
    masks.push(readMemory(ctx + BigInt(UC_SIGMASK), 8).readBigUInt64LE(0));
    if (masks.length > 1000) throw new Error('uc_link does not end');
  }
  return masks;
}

const bit = (signal: number) => 1n << BigInt(signal - 1);
// SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGPIPE, SIGTERM, SIGCHLD, SIGWINCH, SIGRTMIN+2: signals Node may handle.
const HANDLED = [1, 2, 3, 10, 13, 15, 17, 28, 36].reduce((all, s) => all | bit(s), 0n);

function blocked(mask: bigint): boolean {
  return (mask & HANDLED) === HANDLED;
}

/** This thread's blocked signals, as the kernel reports them. */
function threadMask(): bigint {
  const line = readFileSync('/proc/thread-self/status', 'utf8').split('\n').find((l) => l.startsWith('SigBlk:'));
  return BigInt(`0x${line?.split(/\s+/)[1] ?? 'x'}`);
}

// One native call for an unchecked step, three (errno = 0, the call, the report) for a checked one or a checkpoint.
const BEFORE: ChainStep[] = [call('umask', [0o22]), checkpoint('ready')];
const AFTER: ChainStep[] = [call('getpid', [], 'getpid'), reportErrno('execve')];

describe('CompiledChain signal masks', () => {
  it('captures the contexts before "unblock-signals" with every signal blocked, and those after it with none', () => {
    const masks = contextMasks(compile([...BEFORE, unblockSignals(), ...AFTER]));
    expect(masks).toHaveLength(8);
    expect(masks.slice(0, 4).map(blocked)).toEqual([true, true, true, true]);
    expect(masks.slice(4)).toEqual([0n, 0n, 0n, 0n]);
  });

  it('blocks every signal in every context when there is no "unblock-signals" step', () => {
    const masks = contextMasks(compile([...BEFORE, ...AFTER]));
    expect(masks).toHaveLength(8);
    expect(masks.every(blocked)).toBe(true);
  });

  it('blocks none from the first context on when "unblock-signals" comes first; the step itself compiles to no context', () => {
    expect(contextMasks(compile([unblockSignals(), ...BEFORE, ...AFTER]))).toEqual(Array.from({ length: 8 }, () => 0n));
    expect(contextMasks(compile([...BEFORE, ...AFTER, unblockSignals(), call('getppid', [])]))).toHaveLength(9);
  });

  it('gives the compiling thread its own signal mask back', () => {
    const SIGUSR2 = 12;
    const previous = Buffer.alloc(128);
    const mine = Buffer.alloc(128);
    mine.writeBigUInt64LE(bit(SIGUSR2), 0);
    expect(libc().pthreadSigmask(SIG_SETMASK, mine, previous)).toBe(0);
    try {
      expect(threadMask()).toBe(bit(SIGUSR2));
      compile([...BEFORE, unblockSignals(), ...AFTER]);
      expect(threadMask()).toBe(bit(SIGUSR2));
      compile([...BEFORE, ...AFTER]);
      expect(threadMask()).toBe(bit(SIGUSR2));
    } finally {
      libc().pthreadSigmask(SIG_SETMASK, previous, null);
    }
  });
});
