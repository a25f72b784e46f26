import { describe, expect, it } from 'vitest';
import { libseccomp } from '../../../../ffi/libseccomp.js';
import type { Seccomp } from '../../../../src/config/types.js';
import { compileSeccomp } from '../../../../src/linux/seccomp/compile-profile.js';

// The kernel's SECCOMP_RET_* encodings.
const ALLOW = 0x7fff_0000;
const ERRNO = (errno: number) => 0x0005_0000 | errno;
const TRACE = (errno: number) => 0x7ff0_0000 | errno;
const EPERM = 1;
const ENOSYS = 38;

const AUDIT_ARCH: Record<string, number> = { x64: 0xc000_003e, arm64: 0xc000_00b7 };

/**
 * Run a classic BPF seccomp program (what libseccomp exported, what the
 * kernel would run) on one call of this machine's native architecture with
 * all-zero arguments, and return the action it decides.
 */
function decide(filter: Uint8Array, syscall: string): number {
  const nr = libseccomp().syscallResolveName(syscall);
  if (nr < 0) throw new Error(`libseccomp does not know ${syscall}`);
  const arch = AUDIT_ARCH[process.arch];
  if (arch === undefined) throw new Error(`no audit arch for ${process.arch}`);
  // struct seccomp_data { int nr; u32 arch; u64 instruction_pointer; u64 args[6]; }
  const data = Buffer.alloc(64);
  data.writeInt32LE(nr, 0);
  data.writeUInt32LE(arch, 4);
  const code = Buffer.from(filter.buffer, filter.byteOffset, filter.byteLength);
  let a = 0;
  for (let pc = 0; pc * 8 < code.length; pc++) {
    const op = code.readUInt16LE(pc * 8);
    const jt = code.readUInt8(pc * 8 + 2);
    const jf = code.readUInt8(pc * 8 + 3);
    const k = code.readUInt32LE(pc * 8 + 4);
    switch (op) {
      case 0x20: // BPF_LD | BPF_W | BPF_ABS
        a = data.readUInt32LE(k);
        break;
      case 0x54: // BPF_ALU | BPF_AND | BPF_K
        a = (a & k) >>> 0;
        break;
      case 0x05: // BPF_JMP | BPF_JA
        pc += k;
        break;
      case 0x15: // BPF_JMP | BPF_JEQ | BPF_K
        pc += a === k ? jt : jf;
        break;
      case 0x25: // BPF_JMP | BPF_JGT | BPF_K
        pc += a > k ? jt : jf;
        break;
      case 0x35: // BPF_JMP | BPF_JGE | BPF_K
        pc += a >= k ? jt : jf;
        break;
      case 0x45: // BPF_JMP | BPF_JSET | BPF_K
        pc += (a & k) !== 0 ? jt : jf;
        break;
      case 0x06: // BPF_RET | BPF_K
        return k;
      default:
        throw new Error(`BPF opcode 0x${op.toString(16)} at ${pc} is not modelled here`);
    }
  }
  throw new Error('the filter fell off its end');
}

describe('compileSeccomp errno values', () => {
  it('gives a rule without errnoRet EPERM, not the defaultErrnoRet', () => {
    const { filter } = compileSeccomp({
      defaultAction: 'SCMP_ACT_ALLOW',
      defaultErrnoRet: ENOSYS,
      syscalls: [{ names: ['mkdirat'], action: 'SCMP_ACT_ERRNO' }],
    });
    expect(decide(filter, 'mkdirat')).toBe(ERRNO(EPERM));
    expect(decide(filter, 'getpid')).toBe(ALLOW);
  });

  it('keeps an ERRNO(EPERM) rule under a default ERRNO(ENOSYS): the final actions differ', () => {
    const { filter } = compileSeccomp({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: ENOSYS,
      syscalls: [
        { names: ['getpid'], action: 'SCMP_ACT_ALLOW' },
        { names: ['mkdirat'], action: 'SCMP_ACT_ERRNO' },
      ],
    });
    expect(decide(filter, 'mkdirat')).toBe(ERRNO(EPERM));
    expect(decide(filter, 'getpid')).toBe(ALLOW);
    expect(decide(filter, 'getppid')).toBe(ERRNO(ENOSYS));
  });

  it('drops a rule whose final action is the default one (libseccomp would refuse it)', () => {
    const profile: Seccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['mkdirat'], action: 'SCMP_ACT_ERRNO' },
        { names: ['getppid'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM },
      ],
    };
    const { filter } = compileSeccomp(profile);
    expect(decide(filter, 'mkdirat')).toBe(ERRNO(EPERM));
    expect(decide(filter, 'getppid')).toBe(ERRNO(EPERM));
    expect(compileSeccomp({ defaultAction: 'SCMP_ACT_ERRNO' }).filter).toEqual(filter);
  });

  it('uses a rule errnoRet for ERRNO and TRACE', () => {
    const { filter } = compileSeccomp({
      defaultAction: 'SCMP_ACT_ALLOW',
      defaultErrnoRet: ENOSYS,
      syscalls: [
        { names: ['mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
        { names: ['getppid'], action: 'SCMP_ACT_TRACE', errnoRet: 5 },
        { names: ['getpid'], action: 'SCMP_ACT_TRACE' },
      ],
    });
    expect(decide(filter, 'mkdirat')).toBe(ERRNO(13));
    expect(decide(filter, 'getppid')).toBe(TRACE(5));
    expect(decide(filter, 'getpid')).toBe(TRACE(EPERM));
  });

  it('refuses errnoRet on an action that returns no errno, naming the field', () => {
    for (const action of ['SCMP_ACT_ALLOW', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_LOG', 'SCMP_ACT_TRAP'] as const) {
      expect(() =>
        compileSeccomp({
          defaultAction: 'SCMP_ACT_ERRNO',
          syscalls: [
            { names: ['getpid'], action: 'SCMP_ACT_ALLOW' },
            { names: ['mkdirat'], action, errnoRet: 1 },
          ],
        }),
      ).toThrow(`linux.seccomp.syscalls[1].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE return an errno; ${action} cannot return 1`);
    }
  });
});

describe('syscall names of other architectures', () => {
  it("keeps a name only another listed architecture has (mmap2 for x86): libseccomp's negative pseudo-number is valid", () => {
    const profile: Seccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: process.arch === 'x64' ? ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'] : ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
      syscalls: [{ names: ['mmap2', 'no_such_syscall'], action: 'SCMP_ACT_ALLOW' }],
    };
    const withCompat = compileSeccomp(profile);
    expect(withCompat.unknownSyscalls).toEqual(['no_such_syscall']);
    // The rule is in the filter: it is longer than one that allows nothing.
    const without = compileSeccomp({ ...profile, syscalls: [] });
    expect(withCompat.filter.length).toBeGreaterThan(without.filter.length);
  });
});
