import { describe, expect, it } from 'vitest';
import type { LinuxCPU } from '../../../../../src/config/types.js';
import { sharesToWeight } from '../../../../../src/linux/cgroups/v2/resources/cpu.js';
import { planResources } from '../../../../../src/linux/cgroups/v2/resources/plan-resources.js';

const writes = (cpu: LinuxCPU) => planResources({ cpu }).writes.map((w) => [w.file, w.value]);

describe('sharesToWeight: cpu.shares to cpu.weight, as runc 1.4 and crun convert it', () => {
  it.each([
    [2, 1],
    [1, 1],
    [3, 2],
    [512, 59],
    [1024, 100],
    [2048, 174],
    [100_000, 4340],
    [262_143, 10_000],
    [262_144, 10_000],
    [1_000_000, 10_000],
  ])('%d → %d', (shares, weight) => {
    expect(sharesToWeight(shares)).toBe(weight);
  });
});

describe('cpu', () => {
  it('writes idle, then the weight, then cpu.max (runc\'s order)', () => {
    expect(writes({ idle: 0, shares: 512, quota: 50_000, period: 100_000 })).toEqual([
      ['cpu.idle', '0'],
      ['cpu.weight', '59'],
      ['cpu.max', '50000 100000'],
    ]);
  });

  it('takes 0 for "not set" for shares, quota and period', () => {
    expect(writes({ shares: 0, quota: 0, period: 0 })).toEqual([]);
  });

  it('writes "max" for a quota of -1 or none, and the kernel\'s default period when none is given', () => {
    expect(writes({ quota: -1 })).toEqual([['cpu.max', 'max 100000']]);
    expect(writes({ period: 250_000 })).toEqual([['cpu.max', 'max 250000']]);
    expect(writes({ quota: 20_000 })).toEqual([['cpu.max', '20000 100000']]);
  });

  it('names quota or period as the field of cpu.max', () => {
    expect(planResources({ cpu: { quota: 1000 } }).writes[0]?.field).toBe('linux.resources.cpu.quota');
    expect(planResources({ cpu: { period: 1000 } }).writes[0]?.field).toBe('linux.resources.cpu.period');
  });

  it('marks shares 1024 as the kernel default (containerd sends it with every container)', () => {
    expect(planResources({ cpu: { shares: 1024 } }).writes[0]).toMatchObject({ file: 'cpu.weight', value: '100', kernelDefault: true });
    expect(planResources({ cpu: { shares: 512 } }).writes[0]).toEqual({ controller: 'cpu', file: 'cpu.weight', value: '59', field: 'linux.resources.cpu.shares' });
  });

  it('writes the burst alone, or around cpu.max (EINVAL tolerated the first time)', () => {
    expect(planResources({ cpu: { burst: 1000 } }).writes.map((w) => [w.file, w.value, w.tolerate])).toEqual([['cpu.max.burst', '1000', undefined]]);
    expect(planResources({ cpu: { quota: 50_000, burst: 10_000 } }).writes.map((w) => [w.file, w.value, w.tolerate])).toEqual([
      ['cpu.max.burst', '10000', ['EINVAL']],
      ['cpu.max', '50000 100000', undefined],
      ['cpu.max.burst', '10000', undefined],
    ]);
  });

  it('refuses a burst above a positive quota (runtime-spec)', () => {
    expect(() => planResources({ cpu: { quota: 1000, burst: 2000 } })).toThrow(
      'linux.resources.cpu.burst: 2000 is larger than linux.resources.cpu.quota (1000); the runtime-spec requires burst <= quota',
    );
    expect(writes({ quota: -1, burst: 2000 })).toEqual([
      ['cpu.max.burst', '2000'],
      ['cpu.max', 'max 100000'],
      ['cpu.max.burst', '2000'],
    ]);
  });

  it('refuses the real-time fields, which cgroup v2 does not have; 0 asks for nothing', () => {
    expect(() => planResources({ cpu: { realtimeRuntime: 950_000, realtimePeriod: 1_000_000 } })).toThrow(
      'linux.resources.cpu.realtimeRuntime: cgroup v2 has no real-time CPU bandwidth control; remove the field\n' +
        'linux.resources.cpu.realtimePeriod: cgroup v2 has no real-time CPU bandwidth control; remove the field',
    );
    expect(writes({ realtimeRuntime: 0, realtimePeriod: 0 })).toEqual([]);
  });
});

describe('cpuset', () => {
  it('writes cpus and mems as given, after the cpu files; an empty string is "not set"', () => {
    expect(planResources({ cpu: { cpus: '0-3,7', mems: '0', shares: 2 } }).writes.map((w) => [w.controller, w.file, w.value, w.field])).toEqual([
      ['cpu', 'cpu.weight', '1', 'linux.resources.cpu.shares'],
      ['cpuset', 'cpuset.cpus', '0-3,7', 'linux.resources.cpu.cpus'],
      ['cpuset', 'cpuset.mems', '0', 'linux.resources.cpu.mems'],
    ]);
    expect(writes({ cpus: '', mems: '' })).toEqual([]);
  });
});
