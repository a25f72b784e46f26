import { describe, expect, it } from 'vitest';
import { SyscallError } from '../../../../ffi/syscall-error.js';
import { applyRlimits } from '../../../../src/linux/process/rlimits.js';
import { RecordingKernel } from '../../fakes/recording-kernel.js';

const INFINITY = 0xffff_ffff_ffff_ffffn;

describe('applyRlimits', () => {
  it('sets each limit with prlimit on the container process, with the RLIMIT_ numbers of asm-generic/resource.h', () => {
    const names = [
      'RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_DATA', 'RLIMIT_STACK', 'RLIMIT_CORE', 'RLIMIT_RSS', 'RLIMIT_NPROC', 'RLIMIT_NOFILE',
      'RLIMIT_MEMLOCK', 'RLIMIT_AS', 'RLIMIT_LOCKS', 'RLIMIT_SIGPENDING', 'RLIMIT_MSGQUEUE', 'RLIMIT_NICE', 'RLIMIT_RTPRIO', 'RLIMIT_RTTIME',
    ];
    const kernel = new RecordingKernel();
    applyRlimits(kernel, 1234, names.map((type, i) => ({ type, soft: i, hard: 100 + i })));
    expect(kernel.callsTo('prlimit').map((c) => [c.pid, c.resource, c.soft, c.hard])).toEqual(
      names.map((_, i) => [1234, i, BigInt(i), BigInt(100 + i)]),
    );
  });

  it('names the entry in each call, for error messages', () => {
    const kernel = new RecordingKernel();
    applyRlimits(kernel, 1, [
      { type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 },
      { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
    ]);
    expect(kernel.calls).toEqual([
      { op: 'prlimit', pid: 1, resource: 7, soft: 1024n, hard: 4096n, field: 'process.rlimits[0] RLIMIT_NOFILE' },
      { op: 'prlimit', pid: 1, resource: 4, soft: 0n, hard: 0n, field: 'process.rlimits[1] RLIMIT_CORE' },
    ]);
  });

  it('turns 2^64-1, which JSON delivers as the double 2^64, into RLIM_INFINITY', () => {
    const fromJson = JSON.parse('{"soft": 18446744073709551615, "hard": 18446744073709551615}') as { soft: number; hard: number };
    expect(fromJson.soft).toBe(2 ** 64);
    const kernel = new RecordingKernel();
    applyRlimits(kernel, 1, [{ type: 'RLIMIT_MEMLOCK', ...fromJson }]);
    expect(kernel.callsTo('prlimit')[0]).toMatchObject({ soft: INFINITY, hard: INFINITY });
  });

  it('keeps large finite limits exact', () => {
    const kernel = new RecordingKernel();
    applyRlimits(kernel, 1, [{ type: 'RLIMIT_AS', soft: 2 ** 53, hard: 2 ** 63 }]);
    expect(kernel.callsTo('prlimit')[0]).toMatchObject({ soft: 9007199254740992n, hard: 9223372036854775808n });
  });

  it('refuses an unknown type before calling the kernel for it', () => {
    const kernel = new RecordingKernel();
    expect(() => applyRlimits(kernel, 1, [{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }])).toThrow('process.rlimits[0].type: unknown rlimit RLIMIT_BOGUS');
    expect(kernel.calls).toEqual([]);
  });

  it('does nothing without rlimits', () => {
    const kernel = new RecordingKernel();
    applyRlimits(kernel, 1, undefined);
    applyRlimits(kernel, 1, []);
    expect(kernel.calls).toEqual([]);
  });

  it('lets the kernel\'s error through unchanged and stops at the first failure', () => {
    const kernel = new RecordingKernel().failOn('prlimit', 'EPERM', { when: (c) => c.resource === 7 });
    let thrown: unknown;
    try {
      applyRlimits(kernel, 1, [
        { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
        { type: 'RLIMIT_NOFILE', soft: 1 << 20, hard: 1 << 20 },
        { type: 'RLIMIT_NPROC', soft: 10, hard: 10 },
      ]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBe(kernel.failures[0]?.error);
    expect(thrown).toBeInstanceOf(SyscallError);
    expect((thrown as Error).message).toMatch(/^prlimit process\.rlimits\[1\] RLIMIT_NOFILE: EPERM/);
    expect(kernel.callsTo('prlimit').map((c) => c.resource)).toEqual([4, 7]);
  });

  // The CAP_SYS_RESOURCE hint is built inside hostKernel.prlimit (it reads the
  // errno of the real libc call), not by applyRlimits: a recording kernel
  // cannot exercise it. It is tested with a mocked libc in
  // test/unit/ffi/host-kernel-prlimit.test.ts.
});
