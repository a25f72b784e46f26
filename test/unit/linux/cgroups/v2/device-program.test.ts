import { describe, expect, it } from 'vitest';
import { compileDeviceProgram } from '../../../../../src/linux/cgroups/v2/device-program.js';
import {
  ACCESS,
  ALL_ACCESS,
  decide,
  effectiveDeviceRules,
  type DeviceRequest,
  type DeviceRule,
} from '../../../../../src/linux/cgroups/device-rules.js';
import { checkStructure, runDeviceProgram } from './bpf-interpreter.js';

const hex = (program: Buffer) => program.toString('hex').match(/.{16}/g);
const bytes = (...insns: string[]) => insns.map((insn) => insn.replace(/ /g, ''));

// Hand-assembled: opcode, dst | src << 4, off (s16 LE), imm (s32 LE).
const PROLOGUE = bytes(
  '61 12 0000 00000000', // ldxw r2, [r1 + 0]
  'bc 23 0000 00000000', // mov32 r3, r2 (src 2 in the high nibble, dst 3 in the low one)
  '74 03 0000 10000000', // rsh32 r3, 16
  '54 02 0000 ffff0000', // and32 r2, 0xffff
  '61 14 0400 00000000', // ldxw r4, [r1 + 4]
  '61 15 0800 00000000', // ldxw r5, [r1 + 8]
);
const DENY = bytes('b4 00 0000 00000000', '95 00 0000 00000000'); // mov32 r0, 0; exit

function rule(allow: boolean, type: DeviceRule['type'], major: DeviceRule['major'], minor: DeviceRule['minor'], access: number): DeviceRule {
  return { allow, type, major, minor, access };
}

describe('compileDeviceProgram: exact encodings', () => {
  it('an empty list is the prologue and a deny', () => {
    expect(hex(compileDeviceProgram([]))).toEqual([...PROLOGUE, ...DENY]);
  });

  it('deny all, then allow c 1:3 rw', () => {
    const program = compileDeviceProgram([rule(false, 'a', '*', '*', ALL_ACCESS), rule(true, 'c', 1, 3, ACCESS.READ | ACCESS.WRITE)]);
    expect(hex(program)).toEqual([
      ...PROLOGUE,
      ...bytes(
        '55 02 0600 02000000', // jne r2, 2 (char), +6
        '55 04 0500 01000000', // jne r4, 1, +5
        '55 05 0400 03000000', // jne r5, 3, +4
        '54 03 0000 f9ffffff', // and32 r3, ~6
        '55 03 0200 00000000', // jne r3, 0, +2
        'b4 00 0000 01000000', // mov32 r0, 1
        '95 00 0000 00000000', // exit
      ),
      ...DENY, // the deny-all rule decides everything: no fallback after it
    ]);
  });

  it('a partial deny on any char device, then the fallback deny', () => {
    expect(hex(compileDeviceProgram([rule(false, 'c', '*', '*', ACCESS.WRITE)]))).toEqual([
      ...PROLOGUE,
      ...bytes(
        '55 02 0500 02000000', // jne r2, 2, +5
        'bc 31 0000 00000000', // mov32 r1, r3
        '54 01 0000 04000000', // and32 r1, 4 (write)
        '15 01 0200 00000000', // jeq r1, 0, +2
      ),
      ...DENY,
      ...DENY,
    ]);
  });

  it('an allow-all rwm block is two instructions and ends the program', () => {
    const program = compileDeviceProgram([rule(false, 'b', 8, '*', ALL_ACCESS), rule(true, 'a', '*', '*', ALL_ACCESS)]);
    expect(hex(program)).toEqual([...PROLOGUE, ...bytes('b4 00 0000 01000000', '95 00 0000 00000000')]);
  });
});

// A deterministic generator, so a failure names a reproducible case.
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MAJORS = [1, 5, 136, 4095];
const MINORS = [0, 3, 9, 0xfffff];

function randomRules(next: () => number): DeviceRule[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  return Array.from({ length: Math.floor(next() * 9) }, () =>
    rule(
      next() < 0.5,
      pick(['a', 'b', 'c'] as const),
      pick(['*', ...MAJORS] as const),
      pick(['*', ...MINORS] as const),
      next() < 0.3 ? ALL_ACCESS : Math.floor(next() * 8),
    ),
  );
}

function requests(): DeviceRequest[] {
  const all: DeviceRequest[] = [];
  for (const type of ['b', 'c'] as const) {
    for (const major of [...MAJORS, 7]) {
      for (const minor of [...MINORS, 200]) {
        for (let access = 1; access <= ALL_ACCESS; access++) all.push({ type, major, minor, access });
      }
    }
  }
  return all;
}

function expectSameDecisions(rules: readonly DeviceRule[]): void {
  const program = compileDeviceProgram(rules);
  checkStructure(program);
  for (const request of requests()) {
    const accessType = (request.access << 16) | (request.type === 'b' ? 1 : 2);
    const verdict = runDeviceProgram(program, { accessType, major: request.major, minor: request.minor });
    if (verdict !== (decide(rules, request) ? 1 : 0)) {
      throw new Error(`program says ${verdict} for ${JSON.stringify(request)} under ${JSON.stringify(rules)}`);
    }
  }
}

describe('compileDeviceProgram: decisions match device-rules semantics', () => {
  it('for effective lists built from typical configs', () => {
    const configs = [
      undefined,
      [],
      [{ allow: false, access: 'rwm' }],
      [{ allow: true, access: 'rwm' }],
      [{ allow: false, access: 'rwm' }, { allow: true, type: 'c' as const, major: 1, minor: 11, access: 'r' }],
      [{ allow: true, access: 'rwm' }, { allow: false, type: 'c' as const, major: 5, minor: 1, access: 'w' }],
      [{ allow: false, type: 'c' as const, major: 1, minor: 3, access: 'rwm' }],
      [{ allow: true, type: 'b' as const, major: 4095, access: 'rw' }, { allow: false, type: 'b' as const, minor: 0, access: 'w' }],
    ];
    for (const config of configs) expectSameDecisions(effectiveDeviceRules(config));
  });

  it('for 400 random rule lists', () => {
    const next = random(20240611);
    for (let i = 0; i < 400; i++) expectSameDecisions(randomRules(next));
  });
});
