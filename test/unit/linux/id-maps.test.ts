import { describe, expect, it } from 'vitest';
import { SyscallError } from '../../../ffi/syscall-error.js';
import { assertMappableByCaller, writeIdMaps, writeTimeOffsets } from '../../../src/linux/id-maps.js';
import { RecordingKernel } from '../fakes/recording-kernel.js';
import { baseSpec } from './fixtures.js';

const spec = baseSpec({
  linux: {
    namespaces: [{ type: 'user' }, { type: 'mount' }],
    uidMappings: [
      { containerID: 0, hostID: 100000, size: 1000 },
      { containerID: 1000, hostID: 1000, size: 1 },
    ],
    gidMappings: [{ containerID: 0, hostID: 200000, size: 65536 }],
  },
});

describe('assertMappableByCaller', () => {
  const own = (uid: number, gid: number, size = 1) =>
    baseSpec({ linux: { namespaces: [{ type: 'user' }], uidMappings: [{ containerID: 0, hostID: uid, size }], gidMappings: [{ containerID: 0, hostID: gid, size: 1 }] } });

  it("takes the one map the kernel allows an unprivileged caller: its own uid and gid, size 1", () => {
    expect(() => assertMappableByCaller(own(65534, 65534), 65534, 65534)).not.toThrow();
  });

  it('names the field and the map to use for any other (rootless fuzzer, seed 0x0e case 674: a bare EPERM from the write)', () => {
    expect(() => assertMappableByCaller(own(0, 65534), 65534, 65534)).toThrow(
      'linux.uidMappings: an unprivileged caller may map only its own uid, once and with size 1 ([{ "containerID": 0, "hostID": 65534, "size": 1 }])',
    );
    expect(() => assertMappableByCaller(own(65534, 65534, 2), 65534, 65534)).toThrow(/^linux\.uidMappings: /);
    expect(() => assertMappableByCaller(own(65534, 100), 65534, 65534)).toThrow(/^linux\.gidMappings: .*"hostID": 65534/);
    expect(() => assertMappableByCaller(spec, 65534, 65534)).toThrow(/^linux\.uidMappings: /);
  });
});

describe('writeIdMaps', () => {
  it('writes uid_map then gid_map, one line per mapping, as a privileged caller', () => {
    const kernel = new RecordingKernel();
    writeIdMaps(kernel, 4242, spec, true);
    expect(kernel.calls).toEqual([
      { op: 'writeFile', path: '/proc/4242/uid_map', data: '0 100000 1000\n1000 1000 1\n', field: 'linux.uidMappings' },
      { op: 'writeFile', path: '/proc/4242/gid_map', data: '0 200000 65536\n', field: 'linux.gidMappings' },
    ]);
  });

  it('denies setgroups first for an unprivileged caller (the kernel requires it before gid_map)', () => {
    const kernel = new RecordingKernel();
    writeIdMaps(kernel, 7, spec, false);
    expect(kernel.summary()).toEqual(['writeFile /proc/7/setgroups', 'writeFile /proc/7/uid_map', 'writeFile /proc/7/gid_map']);
    expect(kernel.callsTo('writeFile')[0]?.data).toBe('deny');
  });

  it('stops at the first failed write and lets the SyscallError through, naming the field', () => {
    const kernel = new RecordingKernel().failOn('writeFile', 'EPERM', { when: (c) => c.path.endsWith('/uid_map') });
    let thrown: unknown;
    try {
      writeIdMaps(kernel, 9, spec, true);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SyscallError);
    expect((thrown as SyscallError).code).toBe('EPERM');
    expect((thrown as Error).message).toBe('write /proc/9/uid_map (linux.uidMappings): EPERM (operation not permitted)');
    expect(kernel.summary()).toEqual(['writeFile /proc/9/uid_map']);
  });
});

describe('writeTimeOffsets', () => {
  it('writes every clock\'s offset in one write, seconds and nanoseconds defaulting to 0', () => {
    const kernel = new RecordingKernel();
    writeTimeOffsets(kernel, 31, baseSpec({ linux: { timeOffsets: { monotonic: { secs: 86400, nanosecs: 5 }, boottime: { secs: -60 } } } }));
    expect(kernel.calls).toEqual([
      { op: 'writeFile', path: '/proc/31/timens_offsets', data: 'monotonic 86400 5\nboottime -60 0\n', field: 'linux.timeOffsets' },
    ]);
  });

  it('writes nothing without offsets', () => {
    const kernel = new RecordingKernel();
    writeTimeOffsets(kernel, 31, baseSpec());
    writeTimeOffsets(kernel, 31, baseSpec({ linux: { timeOffsets: {} } }));
    expect(kernel.calls).toEqual([]);
  });
});
