import { ALL_ACCESS, type DeviceRule } from '../device-rules.js';

/**
 * The device rules compiled into a BPF_PROG_TYPE_CGROUP_DEVICE program: eBPF
 * bytecode that the kernel runs on every mknod and device open in the cgroup,
 * returning 1 to allow and 0 to deny. It decides exactly as decide() in
 * device-rules.ts: the rules are checked from the last to the first, and R3
 * holds the requested access bits that no rule has allowed yet.
 */

/** Size of one struct bpf_insn. */
const BPF_INSN_SIZE = 8;

type Reg = 0 | 1 | 2 | 3 | 4 | 5;

// Registers of the program. R1 holds the context pointer on entry and is free
// once the prologue has read the three fields.
const R0 = 0;
const CTX: Reg = 1;
const SCRATCH: Reg = 1;
const TYPE: Reg = 2;
const ACCESS: Reg = 3;
const MAJOR: Reg = 4;
const MINOR: Reg = 5;

// struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }, with
// access_type = access << 16 | device type.
const CTX_ACCESS_TYPE = 0;
const CTX_MAJOR = 4;
const CTX_MINOR = 8;
const DEV_TYPE = { b: 1, c: 2 } as const; // BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_DEV_CHAR

// Opcodes (linux/bpf_common.h, linux/bpf.h): class | operation | source.
// ALU is the 32-bit class: results are zero-extended into the 64-bit register,
// so the 64-bit jumps below compare clean values.
const BPF_LDX = 0x01;
const BPF_ALU = 0x04;
const BPF_JMP = 0x05;
const BPF_MEM = 0x60;
const BPF_W = 0x00; // 4 bytes
const BPF_K = 0x00; // operand is the immediate
const BPF_X = 0x08; // operand is src_reg
const BPF_AND = 0x50;
const BPF_RSH = 0x70;
const BPF_MOV = 0xb0;
const BPF_JEQ = 0x10;
const BPF_JNE = 0x50;
const BPF_EXIT = 0x90;
const OP = {
  ldxw: BPF_LDX | BPF_MEM | BPF_W,
  and32: BPF_ALU | BPF_AND | BPF_K,
  rsh32: BPF_ALU | BPF_RSH | BPF_K,
  mov32: BPF_ALU | BPF_MOV | BPF_K,
  mov32Reg: BPF_ALU | BPF_MOV | BPF_X,
  jeq: BPF_JMP | BPF_JEQ | BPF_K,
  jne: BPF_JMP | BPF_JNE | BPF_K,
  exit: BPF_JMP | BPF_EXIT,
} as const;

/** A jump target, placed once the code after the jump is known. */
class Label {
  at: number | undefined;
}

interface Insn {
  readonly code: number;
  readonly dst: Reg;
  readonly src: Reg;
  readonly off: number | Label;
  readonly imm: number;
}

/** Just the eBPF instructions the device program needs, one method each. */
class Assembler {
  private readonly insns: Insn[] = [];

  /** dst = *(u32 *)(src + off) */
  ldxw(dst: Reg, src: Reg, off: number): void {
    this.insns.push({ code: OP.ldxw, dst, src, off, imm: 0 });
  }

  /** dst = imm (32-bit) */
  mov32(dst: Reg, imm: number): void {
    this.insns.push({ code: OP.mov32, dst, src: 0, off: 0, imm });
  }

  /** dst = src (32-bit) */
  mov32Reg(dst: Reg, src: Reg): void {
    this.insns.push({ code: OP.mov32Reg, dst, src, off: 0, imm: 0 });
  }

  /** dst &= imm (32-bit) */
  and32(dst: Reg, imm: number): void {
    this.insns.push({ code: OP.and32, dst, src: 0, off: 0, imm });
  }

  /** dst >>= imm (32-bit, logical) */
  rsh32(dst: Reg, imm: number): void {
    this.insns.push({ code: OP.rsh32, dst, src: 0, off: 0, imm });
  }

  /** if (dst == imm) goto target */
  jeq(dst: Reg, imm: number, target: Label): void {
    this.insns.push({ code: OP.jeq, dst, src: 0, off: target, imm });
  }

  /** if (dst != imm) goto target */
  jne(dst: Reg, imm: number, target: Label): void {
    this.insns.push({ code: OP.jne, dst, src: 0, off: target, imm });
  }

  /** return R0 */
  exit(): void {
    this.insns.push({ code: OP.exit, dst: 0, src: 0, off: 0, imm: 0 });
  }

  /** Make `label` point at the next instruction emitted. */
  place(label: Label): void {
    label.at = this.insns.length;
  }

  /** The program as struct bpf_insn[], jump offsets counted from the next instruction. */
  assemble(): Buffer {
    const out = Buffer.alloc(this.insns.length * BPF_INSN_SIZE);
    this.insns.forEach((insn, i) => {
      const at = i * BPF_INSN_SIZE;
      out.writeUInt8(insn.code, at);
      out.writeUInt8((insn.src << 4) | insn.dst, at + 1); // dst_reg:4 is the low nibble on little-endian
      out.writeInt16LE(typeof insn.off === 'number' ? insn.off : jumpOffset(insn.off, i), at + 2);
      out.writeInt32LE(insn.imm, at + 4);
    });
    return out;
  }
}

function jumpOffset(target: Label, from: number): number {
  if (target.at === undefined) throw new Error('device program: a jump to a label that was never placed');
  return target.at - (from + 1);
}

/** The program for an ordered rule list (see device-rules.ts for the semantics). */
export function compileDeviceProgram(rules: readonly DeviceRule[]): Buffer {
  const asm = new Assembler();
  asm.ldxw(TYPE, CTX, CTX_ACCESS_TYPE); // R2 = access_type
  asm.mov32Reg(ACCESS, TYPE); //           R3 = access_type
  asm.rsh32(ACCESS, 16); //                R3 = requested access bits, all undecided
  asm.and32(TYPE, 0xffff); //              R2 = device type
  asm.ldxw(MAJOR, CTX, CTX_MAJOR); //      R4 = major
  asm.ldxw(MINOR, CTX, CTX_MINOR); //      R5 = minor
  for (let i = rules.length - 1; i >= 0; i--) {
    const rule = rules[i];
    // After a rule that decides every request, more code would be unreachable,
    // and the verifier rejects unreachable instructions.
    if (rule !== undefined && emitRule(asm, rule) === 'decides-all') return asm.assemble();
  }
  asm.mov32(R0, 0); // some bit was never allowed: deny
  asm.exit();
  return asm.assemble();
}

/**
 * One rule's block. Invariant on entry: R3 is not zero (the kernel always asks
 * for at least one bit, and a block that clears the last bit returns).
 */
function emitRule(asm: Assembler, rule: DeviceRule): 'decides-all' | 'falls-through' {
  const next = new Label();
  if (rule.type !== 'a') asm.jne(TYPE, DEV_TYPE[rule.type], next); // another kind of device
  if (rule.major !== '*') asm.jne(MAJOR, rule.major, next); //         another major
  if (rule.minor !== '*') asm.jne(MINOR, rule.minor, next); //         another minor
  if (rule.access === ALL_ACCESS) {
    // The rule names every bit the kernel has, so it decides all the undecided ones.
    asm.mov32(R0, rule.allow ? 1 : 0);
    asm.exit();
    asm.place(next);
    return rule.type === 'a' && rule.major === '*' && rule.minor === '*' ? 'decides-all' : 'falls-through';
  }
  if (rule.allow) {
    asm.and32(ACCESS, ~rule.access); //     the bits this rule names are allowed
    asm.jne(ACCESS, 0, next); //            some bit still undecided: ask earlier rules
    asm.mov32(R0, 1); //                    every bit allowed
    asm.exit();
  } else {
    asm.mov32Reg(SCRATCH, ACCESS);
    asm.and32(SCRATCH, rule.access); //     undecided bits this rule denies
    asm.jeq(SCRATCH, 0, next); //           none: ask earlier rules
    asm.mov32(R0, 0); //                    a requested bit is denied
    asm.exit();
  }
  asm.place(next);
  return 'falls-through';
}
