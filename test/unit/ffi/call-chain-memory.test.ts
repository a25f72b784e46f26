import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pageSize } from '../../../ffi/arena.js';
import { CompiledChain, frameBytes, openChannel } from '../../../ffi/call-chain.js';
import { call, checkpoint, releaseMemory, type ChainStep } from '../../../ffi/chain-step.js';
import { koffi } from '../../../ffi/koffi.js';
import { libc, symbolAddress } from '../../../ffi/libc.js';
import { decodeWaitStatus, Puppet } from '../../../ffi/puppet.js';
import { SYS } from '../../../ffi/syscall-numbers.js';
import { compile, readMemory } from './compiled-chains.js';

/*
 * The chain's memory: one stack for every context, each context's
 * makecontext frame above the stack top of the one before it, and a
 * release-memory step that unmaps the copy of Node in a real child, which
 * then still runs its remaining steps.
 */

const UC_LINK = 8;
const UC_STACK_SP = 16;
const UC_STACK_SIZE = 32;
// x86_64 mcontext_t: gregs[23] right after uc_stack; REG_RDI 8, REG_RSI 9, REG_RSP 15, REG_RIP 16.
const GREG = (n: number) => 40 + 8 * n;
const x86 = process.arch === 'x64';


interface Context {
  readonly address: bigint;
  readonly stack: bigint;
  readonly top: bigint;
  readonly rsp: bigint;
  readonly rip: bigint;
  readonly rdi: bigint;
  readonly rsi: bigint;
}

function contexts(chain: CompiledChain): Context[] {
  const all: Context[] = [];
  for (let ctx = chain.firstContext; ctx !== 0n; ctx = readMemory(ctx + BigInt(UC_LINK), 8).readBigUInt64LE(0)) {
    const bytes = readMemory(ctx, GREG(17));
    const stack = bytes.readBigUInt64LE(UC_STACK_SP);
    all.push({
      address: ctx,
      stack,
      top: stack + bytes.readBigUInt64LE(UC_STACK_SIZE),
      rsp: bytes.readBigUInt64LE(GREG(15)),
      rip: bytes.readBigUInt64LE(GREG(16)),
      rdi: bytes.readBigUInt64LE(GREG(8)),
      rsi: bytes.readBigUInt64LE(GREG(9)),
    });
    if (all.length > 2000) throw new Error('uc_link does not end');
  }
  return all;
}

describe('frameBytes', () => {
  it('is what x86_64 makecontext writes from the top down (8 * max(0, argc - 6) + 24 bytes at most), 16-byte aligned', () => {
    expect([0, 3, 6, 7, 8, 9].map(frameBytes)).toEqual([32, 32, 32, 32, 48, 48]);
  });
});

describe('one stack for the whole chain', () => {
  const STEPS: ChainStep[] = [
    call('umask', [0o22]),
    call('mount', ['a', 'b', 'c', 0, null], 'mount'),
    call('syscall', [SYS.openat2, 3, 'x', new Uint8Array(24), 24], 'openat2'),
    checkpoint('ready'),
    call('syscall', [SYS.exit_group, 0]),
  ];

  it('starts every context at the bottom of the same stack, with its top above the one before', () => {
    const chain = compile(STEPS);
    const all = contexts(chain);
    expect(all.length).toBe(1 + 3 + 3 + 3 + 1);
    expect(new Set(all.map((c) => c.stack)).size).toBe(1);
    // clone's child starts at the top of the depth, below every frame.
    expect(chain.cloneStackTop).toBeLessThan(all[0]?.top ?? 0n);
    for (let i = 1; i < all.length; i += 1) expect(all[i]?.top).toBeGreaterThan(all[i - 1]?.top ?? 0n);
    // The stack is not in the middle of the contexts: it ends below the first one.
    expect(all.at(-1)?.top ?? 0n).toBeLessThanOrEqual(chain.firstContext);
  });

  it.runIf(x86)('puts each frame makecontext wrote at or above the previous context\'s top, so no earlier call can overwrite it', () => {
    const all = contexts(compile(STEPS));
    for (let i = 1; i < all.length; i += 1) {
      const [previous, current] = [all[i - 1] as Context, all[i] as Context];
      expect(current.rsp, `context ${i}`).toBeGreaterThanOrEqual(previous.top);
      expect(current.rsp, `context ${i}`).toBeLessThan(current.top);
    }
  });

  it('guards the page below the stack: an overflow faults instead of writing into the arena', () => {
    const chain = compile(STEPS);
    const stack = contexts(chain)[0]?.stack ?? 0n;
    const guard = stack - BigInt(pageSize());
    const line = readFileSync('/proc/self/maps', 'utf8')
      .split('\n')
      .find((l) => BigInt(`0x${l.split('-')[0] ?? '0'}`) === guard);
    expect(line).toMatch(/^[0-9a-f]+-[0-9a-f]+ ---p /);
  });
});

describe('release-memory', () => {
  it.runIf(x86)('compiles to munmaps of everything but the arena, libc and the thread\'s data, then one of the contexts run so far', () => {
    const chain = compile([call('getpid', []), releaseMemory(), call('getppid', [])]);
    const all = contexts(chain);
    const munmap = symbolAddress('munmap');
    const unmaps = all.filter((c) => c.rip === munmap);
    expect(unmaps.length).toBeGreaterThan(1);
    expect(all.at(-1)?.rip).toBe(symbolAddress('getppid'));
    const arena = { start: chain.arena.address, end: chain.arena.address + BigInt(chain.arena.size) };
    const nodeRanges = unmaps.slice(0, -1);
    const inside = (address: bigint) => nodeRanges.some((c) => c.rdi <= address && address < c.rdi + c.rsi);
    for (const address of [symbolAddress('read'), symbolAddress('setcontext'), koffi().address(libc().errnoLocation()), arena.start, arena.end - 1n, chain.firstContext]) {
      expect(inside(address), `0x${address.toString(16)}`).toBe(false);
    }
    // The node executable is among what goes.
    const node = readFileSync('/proc/self/maps', 'utf8')
      .split('\n')
      .find((l) => l.endsWith(process.execPath));
    expect(node).toBeDefined();
    expect(inside(BigInt(`0x${node?.split('-')[0] ?? '0'}`))).toBe(true);
    // The last one: inside the arena, whole pages, ending before the next context.
    const own = unmaps.at(-1) as Context;
    expect(own.rdi).toBeGreaterThanOrEqual(arena.start);
    expect(own.rdi % BigInt(pageSize())).toBe(0n);
    expect(own.rdi + own.rsi).toBeLessThanOrEqual(all.at(-1)?.address ?? 0n);
  });

  it('leaves a child that no longer holds Node (no node executable, no heap) and still runs its steps to the end', () => {
    const steps: ChainStep[] = [
      call('getpid', [], 'getpid before'),
      releaseMemory(),
      checkpoint('released'),
      call('getpid', [], 'getpid after'),
      checkpoint('after'),
      call('syscall', [SYS.exit_group, 7]),
    ];
    const puppet = Puppet.launch(0, openChannel(), steps);
    try {
      puppet.reachCheckpoint('released');
      const maps = readFileSync(`/proc/${puppet.pid}/maps`, 'utf8');
      expect(maps).not.toContain(process.execPath);
      expect(maps).not.toContain('[heap]');
      expect(maps).toContain('libc.so.6');
      puppet.release();
      puppet.reachCheckpoint('after');
      expect(puppet.errnoOf(3)).toBe(0);
      puppet.release();
      expect(decodeWaitStatus(puppet.reap())).toEqual({ signal: 0, code: 7 });
    } finally {
      puppet.kill();
      puppet.detach();
    }
  });
});
