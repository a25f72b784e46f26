import { describe, expect, it } from 'vitest';
import { blkioToIoWeight } from '../../../../../src/linux/cgroups/v2/resources/io.js';
import { planResources } from '../../../../../src/linux/cgroups/v2/resources/plan-resources.js';

describe('blkioToIoWeight: blkio weight (10..1000) to io.weight (1..10000), as runc and crun convert it', () => {
  it.each([
    [10, 1],
    [100, 910],
    [11, 11],
    [500, 4950],
    [1000, 10_000],
  ])('%d → %d', (weight, ioWeight) => {
    expect(blkioToIoWeight(weight)).toBe(ioWeight);
  });
});

describe('blockIO', () => {
  it('writes the weight to io.bfq.weight as is, falling back to io.weight converted', () => {
    const [write] = planResources({ blockIO: { weight: 500 } }).writes;
    expect(write).toEqual({
      controller: 'io',
      file: 'io.bfq.weight',
      value: '500',
      field: 'linux.resources.blockIO.weight',
      fallback: { controller: 'io', file: 'io.weight', value: '4950', field: 'linux.resources.blockIO.weight' },
    });
  });

  it('writes per-device weights as "MAJ:MIN WEIGHT" lines, with the same fallback', () => {
    const writes = planResources({ blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 500 }, { major: 8, minor: 16, weight: 10 }] } }).writes;
    expect(writes.map((w) => [w.file, w.value, w.fallback?.file, w.fallback?.value, w.field])).toEqual([
      ['io.bfq.weight', '8:0 500', 'io.weight', '8:0 4950', 'linux.resources.blockIO.weightDevice[0]'],
      ['io.bfq.weight', '8:16 10', 'io.weight', '8:16 1', 'linux.resources.blockIO.weightDevice[1]'],
    ]);
  });

  it('takes a weight of 0 for "not set" and refuses weights outside 10..1000', () => {
    expect(planResources({ blockIO: { weight: 0 } }).writes).toEqual([]);
    expect(() => planResources({ blockIO: { weight: 5, weightDevice: [{ major: 8, minor: 0, weight: 2000 }] } })).toThrow(
      "linux.resources.blockIO.weight: 5 is outside blkio's weight range 10..1000\nlinux.resources.blockIO.weightDevice[0].weight: 2000 is outside",
    );
  });

  it('refuses leaf weights (cgroup v1 CFQ only)', () => {
    expect(() => planResources({ blockIO: { leafWeight: 300 } })).toThrow(/^linux\.resources\.blockIO\.leafWeight: cgroup v2 has no leaf weights/);
    expect(() => planResources({ blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 500, leafWeight: 300 }] } })).toThrow(
      /^linux\.resources\.blockIO\.weightDevice\[0\]\.leafWeight: /,
    );
  });

  it('writes one io.max line per device with all its throttles, devices in order of first appearance', () => {
    const writes = planResources({
      blockIO: {
        throttleReadBpsDevice: [
          { major: 8, minor: 0, rate: 600 },
          { major: 259, minor: 0, rate: 2097152 },
        ],
        throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 1000 }],
        throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 30 }],
        throttleWriteIOPSDevice: [
          { major: 8, minor: 16, rate: 300 },
          { major: 259, minor: 0, rate: 120 },
        ],
      },
    }).writes;
    expect(writes.map((w) => [w.file, w.value, w.field])).toEqual([
      [
        'io.max',
        '8:0 rbps=600 wbps=1000 riops=30',
        'linux.resources.blockIO.throttleReadBpsDevice[0], linux.resources.blockIO.throttleWriteBpsDevice[0], linux.resources.blockIO.throttleReadIOPSDevice[0]',
      ],
      ['io.max', '259:0 rbps=2097152 wiops=120', 'linux.resources.blockIO.throttleReadBpsDevice[1], linux.resources.blockIO.throttleWriteIOPSDevice[1]'],
      ['io.max', '8:16 wiops=300', 'linux.resources.blockIO.throttleWriteIOPSDevice[0]'],
    ]);
  });
});
