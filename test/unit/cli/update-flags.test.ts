import { describe, expect, it } from 'vitest';
import { parseDuration, parseMemorySize } from '../../../src/cli/units.js';
import { resourcesFromFlags } from '../../../src/cli/update-flags.js';

describe('parseMemorySize (Docker go-units, binary)', () => {
  it.each([
    ['4096', 4096],
    ['512m', 512 * 2 ** 20],
    ['512M', 512 * 2 ** 20],
    ['1g', 2 ** 30],
    ['1GiB', 2 ** 30],
    ['1.5g', 1.5 * 2 ** 30],
    ['100 kb', 102_400],
    ['2t', 2 * 2 ** 40],
    ['10b', 10],
  ])('%s → %d', (text, bytes) => {
    expect(parseMemorySize(text, '--memory')).toBe(bytes);
  });

  it.each(['', 'lots', '-5', '1x', '1gb2'])('refuses %j', (text) => {
    expect(() => parseMemorySize(text, '--memory')).toThrow(`invalid value for --memory: ${JSON.stringify(text)} is not a size (such as 512m, 1g or a number of bytes)`);
  });
});

describe('parseDuration (Go time.ParseDuration), in ms', () => {
  it.each([
    ['5s', 5000],
    ['250ms', 250],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['100us', 0.1],
    ['0', 0],
    ['-1s', -1000],
  ])('%s → %d', (text, ms) => {
    expect(parseDuration(text, '--interval')).toBe(ms);
  });

  it.each(['', '5', 's', '5 s', '5sec'])('refuses %j', (text) => {
    expect(() => parseDuration(text, '--interval')).toThrow(`invalid value for --interval: ${JSON.stringify(text)} is not a duration`);
  });
});

describe('resourcesFromFlags (runc update)', () => {
  it('maps every flag to its linux.resources field', () => {
    expect(
      resourcesFromFlags({
        memory: '512m',
        'memory-reservation': '256m',
        'memory-swap': '-1',
        'cpu-share': '512',
        'cpu-quota': '-1',
        'cpu-period': '100000',
        'cpu-burst': '1000',
        'cpuset-cpus': '0-1',
        'cpuset-mems': '0',
        'cpu-idle': '1',
        'pids-limit': '100',
        'blkio-weight': '500',
      }),
    ).toEqual({
      memory: { limit: 536870912, reservation: 268435456, swap: -1 },
      cpu: { shares: 512, quota: -1, burst: 1000, period: 100000, cpus: '0-1', mems: '0', idle: 1 },
      blockIO: { weight: 500 },
      pids: { limit: 100 },
    });
  });

  it('reads empty strings and a blkio weight of 0 as "not given", as runc does', () => {
    expect(resourcesFromFlags({ 'cpuset-cpus': '', memory: '', 'blkio-weight': '0' })).toEqual({});
    expect(resourcesFromFlags({})).toEqual({});
  });

  it('keeps the real-time flags, which the planner then refuses with the field', () => {
    expect(resourcesFromFlags({ 'cpu-rt-runtime': '950000', 'cpu-rt-period': '1000000' })).toEqual({ cpu: { realtimeRuntime: 950000, realtimePeriod: 1000000 } });
  });

  it('takes -1 pids for "max" and 0 as a limit', () => {
    expect(resourcesFromFlags({ 'pids-limit': '-1' })).toEqual({ pids: { limit: -1 } });
    expect(resourcesFromFlags({ 'pids-limit': '0' })).toEqual({ pids: { limit: 0 } });
  });

  it('refuses kernel memory (cgroup v2 has none) and Intel RDT', () => {
    expect(() => resourcesFromFlags({ 'kernel-memory': '1g' })).toThrow('--kernel-memory: cgroup v2 has no kernel memory limit (kernel memory counts in --memory); drop the flag');
    expect(() => resourcesFromFlags({ 'kernel-memory-tcp': '1g' })).toThrow(/^--kernel-memory-tcp: /);
    expect(() => resourcesFromFlags({ 'l3-cache-schema': 'L3:0=f' })).toThrow('--l3-cache-schema: tsrun does not support Intel RDT; drop the flag');
  });

  it('refuses numbers that are not', () => {
    expect(() => resourcesFromFlags({ 'cpu-period': '-5' })).toThrow('invalid value for --cpu-period: "-5" is not a non-negative integer');
    expect(() => resourcesFromFlags({ 'cpu-quota': '1.5' })).toThrow('invalid value for --cpu-quota: "1.5" is not an integer');
    expect(() => resourcesFromFlags({ memory: 'much' })).toThrow(/^invalid value for --memory: "much"/);
  });
});
