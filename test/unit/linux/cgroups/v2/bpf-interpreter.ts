/**
 * A small eBPF interpreter for the instructions the device program uses, so
 * unit tests can run the emitted bytes without a kernel. It decodes the raw
 * bytes itself (opcodes written out as numbers, not imported from the
 * emitter) and refuses what the kernel's verifier would refuse for this
 * subset: unknown opcodes, reserved fields in use, reads of registers never
 * written, pointer arithmetic, context reads other than the three u32 fields,
 * backward or out-of-range jumps, unreachable instructions, falling off the end.
 */

export interface DeviceContext {
  /** access << 16 | device type */
  readonly accessType: number;
  readonly major: number;
  readonly minor: number;
}

interface Insn {
  readonly code: number;
  readonly dst: number;
  readonly src: number;
  readonly off: number;
  readonly imm: number;
}

const CTX_POINTER = 'ctx';
type Value = bigint | typeof CTX_POINTER;

const U32 = 0xffffffffn;
const U64 = (1n << 64n) - 1n;

export function decode(program: Uint8Array): Insn[] {
  if (program.length === 0 || program.length % 8 !== 0) throw new Error(`program of ${program.length} bytes`);
  const view = new DataView(program.buffer, program.byteOffset, program.length);
  return Array.from({ length: program.length / 8 }, (_, i) => {
    const regs = view.getUint8(i * 8 + 1);
    return {
      code: view.getUint8(i * 8),
      dst: regs & 0x0f,
      src: regs >> 4,
      off: view.getInt16(i * 8 + 2, true),
      imm: view.getInt32(i * 8 + 4, true),
    };
  });
}

const JUMPS = new Set([0x05, 0x15, 0x55]);

/** The verifier's structural checks: forward in-range jumps, nothing unreachable, no falling off the end. */
export function checkStructure(program: Uint8Array): void {
  const insns = decode(program);
  const reachable = new Set<number>([0]);
  insns.forEach((insn, pc) => {
    if (!reachable.has(pc)) throw new Error(`instruction ${pc} is unreachable`);
    const successors: number[] = [];
    if (insn.code !== 0x95 && insn.code !== 0x05) successors.push(pc + 1);
    if (JUMPS.has(insn.code)) {
      if (insn.off < 0) throw new Error(`instruction ${pc} jumps backwards`);
      successors.push(pc + 1 + insn.off);
    }
    for (const next of successors) {
      if (next >= insns.length) throw new Error(`instruction ${pc} leads past the end of the program`);
      reachable.add(next);
    }
  });
}

/** Run the program on one request; returns R0. */
export function runDeviceProgram(program: Uint8Array, ctx: DeviceContext): number {
  const insns = decode(program);
  const regs: (Value | undefined)[] = Array.from({ length: 11 }, () => undefined);
  regs[1] = CTX_POINTER;
  const scalar = (r: number): bigint => {
    const value = regs[r];
    if (value === undefined) throw new Error(`R${r} read before it was written`);
    if (value === CTX_POINTER) throw new Error(`R${r} is a pointer; arithmetic on it is refused`);
    return value;
  };
  const reserved = (insn: Insn, pc: number, fields: { src?: boolean; off?: boolean; imm?: boolean; dst?: boolean }) => {
    if ((fields.src && insn.src !== 0) || (fields.off && insn.off !== 0) || (fields.imm && insn.imm !== 0) || (fields.dst && insn.dst !== 0)) {
      throw new Error(`instruction ${pc} (0x${insn.code.toString(16)}) uses reserved fields`);
    }
  };
  const signExtended = (imm: number): bigint => BigInt.asUintN(64, BigInt(imm));

  for (let pc = 0, steps = 0; steps <= insns.length; steps++) {
    const insn = insns[pc];
    if (insn === undefined) throw new Error(`pc ${pc} is outside the program`);
    if (insn.dst > 10 || insn.src > 10) throw new Error(`instruction ${pc} names a register above R10`);
    pc++;
    switch (insn.code) {
      case 0x61: {
        // ldxw dst, [src + off]
        reserved(insn, pc - 1, { imm: true });
        if (regs[insn.src] !== CTX_POINTER) throw new Error(`instruction ${pc - 1} loads through a non-context register`);
        regs[insn.dst] = BigInt(contextWord(ctx, insn.off));
        break;
      }
      case 0xb4: // mov32 dst, imm
        reserved(insn, pc - 1, { src: true, off: true });
        regs[insn.dst] = BigInt(insn.imm) & U32;
        break;
      case 0xbc: // mov32 dst, src
        reserved(insn, pc - 1, { off: true, imm: true });
        regs[insn.dst] = scalar(insn.src) & U32;
        break;
      case 0x54: // and32 dst, imm
        reserved(insn, pc - 1, { src: true, off: true });
        regs[insn.dst] = scalar(insn.dst) & BigInt(insn.imm) & U32;
        break;
      case 0x74: // rsh32 dst, imm
        reserved(insn, pc - 1, { src: true, off: true });
        if (insn.imm < 0 || insn.imm > 31) throw new Error(`instruction ${pc - 1} shifts by ${insn.imm}`);
        regs[insn.dst] = (scalar(insn.dst) & U32) >> BigInt(insn.imm);
        break;
      case 0x15: // jeq dst, imm, +off (64-bit compare, imm sign-extended)
        reserved(insn, pc - 1, { src: true });
        if (scalar(insn.dst) === signExtended(insn.imm)) pc += insn.off;
        break;
      case 0x55: // jne dst, imm, +off
        reserved(insn, pc - 1, { src: true });
        if (scalar(insn.dst) !== signExtended(insn.imm)) pc += insn.off;
        break;
      case 0x05: // ja +off
        reserved(insn, pc - 1, { src: true, dst: true, imm: true });
        pc += insn.off;
        break;
      case 0x95: // exit
        reserved(insn, pc - 1, { src: true, dst: true, off: true, imm: true });
        return Number(scalar(0) & U64);
      default:
        throw new Error(`instruction ${pc - 1}: opcode 0x${insn.code.toString(16)} is outside the interpreted subset`);
    }
  }
  throw new Error('the program ran longer than its length: a loop');
}

function contextWord(ctx: DeviceContext, off: number): number {
  if (off === 0) return ctx.accessType;
  if (off === 4) return ctx.major;
  if (off === 8) return ctx.minor;
  throw new Error(`context read at offset ${off}: struct bpf_cgroup_dev_ctx has u32 fields at 0, 4, 8`);
}
