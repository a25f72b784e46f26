import { describe, expect, it } from 'vitest';
import { SyscallError } from '../../../ffi/syscall-error.js';
import { errnoNumber, RecordingKernel } from '../fakes/recording-kernel.js';

describe('RecordingKernel (the fake HostKernel the linux tests use)', () => {
  it('records every call with its arguments, in order', () => {
    const k = new RecordingKernel();
    k.mkdir('/sys/fs/cgroup/c1');
    k.writeFile('/sys/fs/cgroup/c1/cgroup.procs', '42', 'linux.cgroupsPath');
    k.prlimit(42, 7, 1n, 2n, 'process.rlimits[0] RLIMIT_NOFILE');
    k.kill(42, 9);
    k.rmdir('/sys/fs/cgroup/c1');
    expect(k.calls).toEqual([
      { op: 'mkdir', path: '/sys/fs/cgroup/c1' },
      { op: 'writeFile', path: '/sys/fs/cgroup/c1/cgroup.procs', data: '42', field: 'linux.cgroupsPath' },
      { op: 'prlimit', pid: 42, resource: 7, soft: 1n, hard: 2n, field: 'process.rlimits[0] RLIMIT_NOFILE' },
      { op: 'kill', pid: 42, signal: 9 },
      { op: 'rmdir', path: '/sys/fs/cgroup/c1' },
    ]);
    expect(k.summary()).toEqual(['mkdir /sys/fs/cgroup/c1', 'writeFile /sys/fs/cgroup/c1/cgroup.procs', 'prlimit 42 7', 'kill 42 9', 'rmdir /sys/fs/cgroup/c1']);
  });

  it('answers readFile from its files, and from what was written; ENOENT otherwise', () => {
    const k = new RecordingKernel({ '/proc/self/cgroup': '0::/a\n' });
    expect(k.readFile('/proc/self/cgroup')).toBe('0::/a\n');
    k.writeFile('/x', 'y');
    expect(k.readFile('/x')).toBe('y');
    expect(() => k.readFile('/missing')).toThrow('read /missing: ENOENT (no such file or directory)');
    expect(k.callsTo('readFile').map((c) => c.path)).toEqual(['/proc/self/cgroup', '/x', '/missing']);
  });

  it('fails the chosen calls with a SyscallError shaped like the real kernel\'s, and records them', () => {
    const k = new RecordingKernel().failOn('writeFile', 'EBUSY', { when: (c) => c.path.endsWith('cgroup.procs'), hint: 'try again' });
    k.writeFile('/a/memory.max', '1');
    let thrown: unknown;
    try {
      k.writeFile('/a/cgroup.procs', '1', 'linux.cgroupsPath');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SyscallError);
    expect(thrown).toMatchObject({ syscall: 'write', errno: errnoNumber('EBUSY'), code: 'EBUSY', subject: '/a/cgroup.procs (linux.cgroupsPath)', hint: 'try again' });
    expect(k.failures).toHaveLength(1);
    expect(k.failures[0]?.error).toBe(thrown);
    expect(k.calls).toHaveLength(2);
    // A failed write leaves nothing behind.
    expect(k.files.has('/a/cgroup.procs')).toBe(false);
  });

  it('fails only as many times as asked', () => {
    const k = new RecordingKernel().failOn('kill', 3, { times: 1 });
    expect(() => k.kill(5, 15)).toThrow('kill pid 5: ESRCH (no such process)');
    expect(() => k.kill(5, 15)).not.toThrow();
  });

  it('knows errno names', () => {
    expect(errnoNumber('EPERM')).toBe(1);
    expect(errnoNumber('ENOENT')).toBe(2);
    expect(errnoNumber(13)).toBe(13);
    expect(() => errnoNumber('EWHATEVER')).toThrow('unknown errno name EWHATEVER');
  });
});
