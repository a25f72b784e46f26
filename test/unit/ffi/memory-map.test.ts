import { describe, expect, it } from 'vitest';
import { argStart, keptRanges, parseMaps, releasableRanges, type ChainMemory, type Range } from '../../../ffi/memory-map.js';

// A Node 24 process's maps on this machine kind, shortened: a non-PIE node at
// 0x400000 (with its text also remapped higher), malloc's heap, thread
// stacks, koffi, libc (then its bss), the arena, the mapping ld.so put the TLS
// in, ld.so, the kernel's mappings, the stack.
const MAPS = `00400000-0074d000 r--p 00000000 08:01 1001 /opt/node/bin/node
0074d000-03081000 r-xp 0034d000 08:01 1001 /opt/node/bin/node
06b87000-06bae000 rw-p 06786000 08:01 1001 /opt/node/bin/node
06bae000-06be8000 rw-p 00000000 00:00 0
0d848000-0dbed000 rw-p 00000000 00:00 0 [heap]
7f19a8000000-7f19a806c000 rw-p 00000000 00:00 0
7f19eefff000-7f19ef7ff000 rw-p 00000000 00:00 0
7f19f466c000-7f19f466e000 r--p 00000000 08:01 2002 /opt/node/koffi.node
7f19f61ed000-7f19f61f1000 r--p 001cf000 08:01 3003 /usr/lib/x86_64-linux-gnu/libc.so.6
7f19f6000000-7f19f6028000 r--p 00000000 08:01 3003 /usr/lib/x86_64-linux-gnu/libc.so.6
7f19f6028000-7f19f617e000 r-xp 00028000 08:01 3003 /usr/lib/x86_64-linux-gnu/libc.so.6
7f19f61f1000-7f19f61f3000 rw-p 001d3000 08:01 3003 /usr/lib/x86_64-linux-gnu/libc.so.6
7f19f61f3000-7f19f6200000 rw-p 00000000 00:00 0
7f19f6300000-7f19f6319000 rw-p 00000000 00:00 0
7f19f6320000-7f19f6330000 rw-p 00000000 00:00 0
7f19f64b1000-7f19f64d7000 rw-p 00000000 00:00 0
7f19f65e3000-7f19f65e7000 rw-s 00000000 00:0f 4004 anon_inode:[io_uring]
7f19f6600000-7f19f6604000 r--p 00000000 00:00 0 [vvar]
7f19f6604000-7f19f6606000 r--p 00000000 00:00 0 [vvar_vclock]
7f19f6606000-7f19f6608000 r-xp 00000000 00:00 0 [vdso]
7f19f6608000-7f19f6609000 r--p 00000000 08:01 5005 /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7f19f6609000-7f19f662f000 r-xp 00001000 08:01 5005 /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7f19f662f000-7f19f6631000 rw-p 00036000 08:01 5005 /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7ffc81dcd000-7ffc81dee000 rw-p 00000000 00:00 0 [stack]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]
`;

const MEMORY: ChainMemory = {
  arena: { start: 0x7f19f6300000n, end: 0x7f19f6319000n },
  libraries: [0x7f19f6028100n, 0x7f19f6608000n],
  thread: [0x7f19f64d5af8n, 0x7f19f64d5d40n],
  argStart: 0x7ffc81ded123n,
  pageSize: 4096,
};

const hex = (ranges: readonly Range[]) => ranges.map((r) => `${r.start.toString(16)}-${r.end.toString(16)}`);

describe('parseMaps', () => {
  it('reads the range and the path (empty for anonymous memory, spaces kept)', () => {
    const maps = parseMaps('7f00-7f10 rw-p 00000000 00:00 0\n7f10-7f20 r--p 00000000 08:01 7 /tmp/a b\n');
    expect(maps).toEqual([
      { start: 0x7f00n, end: 0x7f10n, path: '' },
      { start: 0x7f10n, end: 0x7f20n, path: '/tmp/a b' },
    ]);
  });
});

describe('keptRanges', () => {
  it('keeps the arena, every mapping of libc and ld.so and the bss after them, the TLS mapping, the kernel mappings, and the stack from the argument strings up', () => {
    expect(hex(keptRanges(parseMaps(MAPS), MEMORY))).toEqual([
      '7f19f6300000-7f19f6319000',
      // libc, in maps order, then its bss
      '7f19f61ed000-7f19f61f1000',
      '7f19f6000000-7f19f6028000',
      '7f19f6028000-7f19f617e000',
      '7f19f61f1000-7f19f61f3000',
      '7f19f61f3000-7f19f6200000',
      // ld.so (no anonymous mapping right after it)
      '7f19f6608000-7f19f6609000',
      '7f19f6609000-7f19f662f000',
      '7f19f662f000-7f19f6631000',
      // errno and the thread pointer: one mapping, kept twice
      '7f19f64b1000-7f19f64d7000',
      '7f19f64b1000-7f19f64d7000',
      '7f19f6600000-7f19f6604000',
      '7f19f6604000-7f19f6606000',
      '7f19f6606000-7f19f6608000',
      'ffffffffff600000-ffffffffff601000',
      '7ffc81ded000-7ffc81dee000',
    ]);
  });

  it('refuses a library address in no mapping, or in anonymous memory: the chain would run code it cannot keep', () => {
    expect(() => keptRanges(parseMaps(MAPS), { ...MEMORY, libraries: [0x1000n] })).toThrow(/in no mapping/);
    expect(() => keptRanges(parseMaps(MAPS), { ...MEMORY, libraries: [0x7f19a8000100n] })).toThrow(/not a file \(anonymous\)/);
  });
});

describe('releasableRanges', () => {
  it('unmaps everything else in as many ranges as there are gaps between kept ones, holes included, never the kernel mappings', () => {
    const maps = parseMaps(MAPS);
    expect(hex(releasableRanges(maps, keptRanges(maps, MEMORY)))).toEqual([
      // node, its bss, malloc's heap, thread arenas and stacks: up to libc
      '400000-7f19f6000000',
      // between libc's bss and the arena: nothing but the hole, so no call
      // between the arena and the TLS mapping (the anonymous 7f19f6320000)
      '7f19f6319000-7f19f64b1000',
      // io_uring rings, up to the kernel's mappings
      '7f19f64d7000-7f19f6600000',
      // after ld.so, up to the argument strings: the stack Node used
      '7f19f6631000-7ffc81ded000',
    ]);
  });

  it('never reaches [vsyscall], above the end of user space', () => {
    const maps = parseMaps('1000-2000 rw-p 0 00:00 0\nffffffffff600000-ffffffffff601000 --xp 0 00:00 0 [vsyscall]\n');
    expect(hex(releasableRanges(maps, []))).toEqual(['1000-2000']);
  });

  it('leaves a mapping that is partly kept only its kept part', () => {
    const maps = parseMaps('1000-9000 rw-p 0 00:00 0\n');
    expect(hex(releasableRanges(maps, [{ start: 0x3000n, end: 0x4000n }]))).toEqual(['1000-3000', '4000-9000']);
  });
});

describe('argStart', () => {
  it('reads field 48 of /proc/<pid>/stat, whatever the command name holds', () => {
    const tail = Array.from({ length: 50 }, (_, i) => String(i + 3));
    expect(argStart(`123 (a) b (c) ${tail.join(' ')}`)).toBe(48n);
  });
});
