import { beforeEach, describe, expect, it, vi } from 'vitest';

// hostKernel.prlimit calls libc; here libc is a stub, so no system call is made.
const stub = vi.hoisted(() => ({
  result: 0,
  errno: 0,
  calls: [] as Array<{ pid: number; resource: number; limits: bigint[]; old: unknown }>,
}));

vi.mock('../../../ffi/libc.js', () => ({
  libc: () => ({
    prlimit: (pid: number, resource: number, limits: BigUint64Array, old: unknown) => {
      stub.calls.push({ pid, resource, limits: [...limits], old });
      return stub.result;
    },
  }),
  lastErrno: () => stub.errno,
}));

const { hostKernel } = await import('../../../ffi/host-kernel.js');
const { applyRlimits } = await import('../../../src/linux/process/rlimits.js');
const { SyscallError } = await import('../../../ffi/syscall-error.js');

beforeEach(() => {
  stub.result = 0;
  stub.errno = 0;
  stub.calls.length = 0;
});

describe('hostKernel.prlimit', () => {
  it('passes {soft, hard} as two 64-bit words, RLIM_INFINITY included, and no old-limit buffer', () => {
    applyRlimits(hostKernel, 77, [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 2 ** 64 }]);
    expect(stub.calls).toEqual([{ pid: 77, resource: 7, limits: [1024n, 0xffff_ffff_ffff_ffffn], old: null }]);
  });

  it('explains EPERM: raising a hard limit needs CAP_SYS_RESOURCE', () => {
    stub.result = -1;
    stub.errno = 1; // EPERM
    let thrown: unknown;
    try {
      applyRlimits(hostKernel, 77, [{ type: 'RLIMIT_NOFILE', soft: 1 << 20, hard: 1 << 20 }]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SyscallError);
    const e = thrown as InstanceType<typeof SyscallError>;
    expect(e.code).toBe('EPERM');
    expect(e.subject).toBe('process.rlimits[0] RLIMIT_NOFILE');
    expect(e.hint).toMatch(/CAP_SYS_RESOURCE/);
    expect(e.message).toMatch(/^prlimit process\.rlimits\[0\] RLIMIT_NOFILE: EPERM \(operation not permitted\): .*CAP_SYS_RESOURCE/);
  });

  it('gives no hint for other errors', () => {
    stub.result = -1;
    stub.errno = 22; // EINVAL
    expect(() => hostKernel.prlimit(1, 7, 10n, 5n, 'process.rlimits[0] RLIMIT_NOFILE')).toThrow(
      'prlimit process.rlimits[0] RLIMIT_NOFILE: EINVAL (invalid argument)',
    );
  });
});
