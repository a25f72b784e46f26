import { describe, expect, it } from 'vitest';
import { scopeOf } from '../../../../../src/linux/cgroups/systemd/scope.js';
import { cpuMask, limitProperties, scopeProperties } from '../../../../../src/linux/cgroups/systemd/unit-properties.js';
import { planResources } from '../../../../../src/linux/cgroups/v2/resources/plan-resources.js';

const MiB = 2 ** 20;

describe('the properties of a container scope', () => {
  it('has the process, the slice, Delegate and accounting, as runc gives them', () => {
    expect(scopeProperties({ id: 'web', pid: 42, slice: 'system.slice', writes: [] })).toEqual([
      ['Description', ['s', 'tsrun container web']],
      ['Slice', ['s', 'system.slice']],
      ['PIDs', ['au', [42]]],
      ['Delegate', ['b', true]],
      ['DefaultDependencies', ['b', false]],
      ['MemoryAccounting', ['b', true]],
      ['CPUAccounting', ['b', true]],
      ['IOAccounting', ['b', true]],
      ['TasksAccounting', ['b', true]],
    ]);
  });

  it('carries the values tsrun writes to the cgroup v2 files systemd also manages', () => {
    const { writes } = planResources({
      memory: { limit: 64 * MiB, reservation: 32 * MiB, swap: 96 * MiB },
      pids: { limit: 20 },
      cpu: { shares: 1024, quota: 50000, period: 100000, cpus: '0-2,9', mems: '0' },
      unified: { 'memory.high': '50331648' },
    });
    expect(limitProperties(writes)).toEqual([
      ['TasksMax', ['t', '20']],
      ['MemorySwapMax', ['t', String(32 * MiB)]],
      ['MemoryMax', ['t', String(64 * MiB)]],
      ['MemoryLow', ['t', String(32 * MiB)]],
      ['CPUWeight', ['t', '100']],
      ['CPUQuotaPerSecUSec', ['t', '500000']],
      ['CPUQuotaPeriodUSec', ['t', '100000']],
      ['AllowedCPUs', ['ay', [0b111, 0b10]]],
      ['AllowedMemoryNodes', ['ay', [1]]],
      ['MemoryHigh', ['t', '50331648']],
    ]);
  });

  it('spells "max" as systemd\'s infinity, a decimal beyond a double\'s integers', () => {
    const { writes } = planResources({ memory: { limit: -1 }, pids: { limit: -1 }, cpu: { quota: -1, period: 50000 } });
    expect(limitProperties(writes)).toEqual([
      ['TasksMax', ['t', '18446744073709551615']],
      // An unlimited memory limit unlimits swap too (memory.ts).
      ['MemorySwapMax', ['t', '18446744073709551615']],
      ['MemoryMax', ['t', '18446744073709551615']],
      ['CPUQuotaPerSecUSec', ['t', '18446744073709551615']],
      ['CPUQuotaPeriodUSec', ['t', '50000']],
    ]);
  });

  it('leaves out what systemd does not manage (huge pages, rdma, io.max)', () => {
    const { writes } = planResources({ hugepageLimits: [{ pageSize: '2MB', limit: 2 * MiB }], blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1000 }] } });
    expect(writes.length).toBeGreaterThan(0);
    expect(limitProperties(writes)).toEqual([]);
  });

  it('turns a cpu list into systemd\'s bitmask bytes, and refuses what is not one', () => {
    expect(cpuMask('0')).toEqual([1]);
    expect(cpuMask('7-8')).toEqual([0x80, 0x01]);
    expect(cpuMask('1,3, 5')).toEqual([0b101010]);
    expect(() => cpuMask('3-1')).toThrow('"3-1" is not a cpu list');
    expect(() => cpuMask('a')).toThrow('"a" is not a cpu list');
  });

  it('names the unit and its slice from the directory systemd\'s naming gives', () => {
    expect(scopeOf('/sys/fs/cgroup/system.slice/docker-abc.scope')).toEqual({ unit: 'docker-abc.scope', slice: 'system.slice' });
    expect(scopeOf('/sys/fs/cgroup/machine.slice/machine-a.slice/tsrun-x.scope')).toEqual({ unit: 'tsrun-x.scope', slice: 'machine-a.slice' });
    expect(scopeOf('/sys/fs/cgroup/tsrun-x.scope')).toEqual({ unit: 'tsrun-x.scope', slice: '-.slice' });
    expect(() => scopeOf('/sys/fs/cgroup/system.slice/kubepods.slice')).toThrow('must be a scope');
  });
});
