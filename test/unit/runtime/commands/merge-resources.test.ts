import { describe, expect, it } from 'vitest';
import { mergeResources } from '../../../../src/runtime/commands/merge-resources.js';

describe('mergeResources', () => {
  it('replaces the fields the update gives and keeps the others', () => {
    expect(
      mergeResources(
        { memory: { limit: 100, reservation: 50 }, cpu: { quota: 1000, period: 10_000 }, pids: { limit: 10 }, devices: [{ allow: false, access: 'rwm' }] },
        { memory: { limit: 200 }, cpu: { period: 20_000 } },
      ),
    ).toEqual({ memory: { limit: 200, reservation: 50 }, cpu: { quota: 1000, period: 20_000 }, pids: { limit: 10 }, devices: [{ allow: false, access: 'rwm' }] });
  });

  it('lifts the swap limit with a memory limit of -1 given alone (runc)', () => {
    expect(mergeResources({ memory: { limit: 100, swap: 300 } }, { memory: { limit: -1 } })).toEqual({ memory: { limit: -1 } });
    expect(mergeResources({ memory: { limit: 100, swap: 300 } }, { memory: { limit: -1, swap: 500 } })).toEqual({ memory: { limit: -1, swap: 500 } });
  });

  it('drops the shares when cpu.idle comes without them (an idle cgroup refuses a weight)', () => {
    expect(mergeResources({ cpu: { shares: 512 } }, { cpu: { idle: 1 } })).toEqual({ cpu: { idle: 1 } });
    expect(mergeResources({ cpu: { shares: 512 } }, { cpu: { idle: 0, shares: 256 } })).toEqual({ cpu: { idle: 0, shares: 256 } });
  });

  it('updates per-device entries one by one, keeping the weight an update does not give', () => {
    const merged = mergeResources(
      {
        blockIO: {
          weight: 100,
          weightDevice: [{ major: 8, minor: 0, weight: 500, leafWeight: 20 }],
          throttleReadBpsDevice: [
            { major: 8, minor: 0, rate: 1 },
            { major: 8, minor: 16, rate: 2 },
          ],
        },
      },
      { blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 600 }, { major: 8, minor: 32, weight: 10 }], throttleReadBpsDevice: [{ major: 8, minor: 16, rate: 3 }] } },
    );
    expect(merged.blockIO).toEqual({
      weight: 100,
      weightDevice: [
        { major: 8, minor: 0, weight: 600, leafWeight: 20 },
        { major: 8, minor: 32, weight: 10 },
      ],
      throttleReadBpsDevice: [
        { major: 8, minor: 0, rate: 1 },
        { major: 8, minor: 16, rate: 3 },
      ],
    });
  });

  it('updates huge page sizes, rdma devices and unified keys one by one', () => {
    expect(
      mergeResources(
        { hugepageLimits: [{ pageSize: '2MB', limit: 1 }, { pageSize: '1GB', limit: 2 }], rdma: { a: { hcaHandles: 1 } }, unified: { 'memory.high': '1', 'pids.max': '5' } },
        { hugepageLimits: [{ pageSize: '1GB', limit: 3 }], rdma: { b: { hcaObjects: 2 } }, unified: { 'pids.max': '6' } },
      ),
    ).toEqual({
      hugepageLimits: [{ pageSize: '2MB', limit: 1 }, { pageSize: '1GB', limit: 3 }],
      rdma: { a: { hcaHandles: 1 }, b: { hcaObjects: 2 } },
      unified: { 'memory.high': '1', 'pids.max': '6' },
    });
  });

  it('does not change the current resources', () => {
    const current = { memory: { limit: 1, swap: 2 }, cpu: { shares: 2 } };
    mergeResources(current, { memory: { limit: -1 }, cpu: { idle: 1 } });
    expect(current).toEqual({ memory: { limit: 1, swap: 2 }, cpu: { shares: 2 } });
  });
});
