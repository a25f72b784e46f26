import { describe, expect, it } from 'vitest';
import type { LinuxMemory } from '../../../../../src/config/types.js';
import { swapMax } from '../../../../../src/linux/cgroups/v2/resources/memory.js';
import { planResources } from '../../../../../src/linux/cgroups/v2/resources/plan-resources.js';

const writes = (memory: LinuxMemory) => planResources({ memory }).writes.map((w) => [w.file, w.value, w.field]);

describe('memory', () => {
  it('writes limit to memory.max and reservation to memory.low, -1 as "max", after the swap (runc\'s order)', () => {
    expect(writes({ limit: 536870912, reservation: 268435456, swap: 1073741824 })).toEqual([
      ['memory.swap.max', '536870912', 'linux.resources.memory.swap'],
      ['memory.max', '536870912', 'linux.resources.memory.limit'],
      ['memory.low', '268435456', 'linux.resources.memory.reservation'],
    ]);
    expect(writes({ limit: -1, reservation: -1 })).toEqual([
      ['memory.swap.max', 'max', 'linux.resources.memory.swap'],
      ['memory.max', 'max', 'linux.resources.memory.limit'],
      ['memory.low', 'max', 'linux.resources.memory.reservation'],
    ]);
  });

  it('takes 0 for "not set", as runc does (memory.max 0 would kill the container)', () => {
    expect(writes({ limit: 0, reservation: 0, swap: 0 })).toEqual([]);
    expect(writes({})).toEqual([]);
  });

  it('refuses sizes below -1, naming each field', () => {
    expect(() => planResources({ memory: { limit: -2, reservation: -5 } })).toThrow(
      'linux.resources.memory.limit: -2 is not a size; give bytes, or -1 for no limit\nlinux.resources.memory.reservation: -5 is not a size',
    );
  });

  it('lets a missing memory.swap.max pass only for "max" and "0" (no swap accounting), as runc does', () => {
    const swap = (memory: LinuxMemory) => planResources({ memory }).writes.find((w) => w.file === 'memory.swap.max');
    expect(swap({ limit: 100, swap: 100 })?.tolerate).toEqual(['ENOENT']);
    expect(swap({ swap: -1 })?.tolerate).toEqual(['ENOENT']);
    expect(swap({ limit: 100, swap: 300 })?.tolerate).toEqual([]);
  });
});

describe('swapMax: memory+swap to cgroup v2 swap, as runc converts it', () => {
  it.each([
    // [limit, swap (memory+swap), memory.swap.max]
    [-1, 0, 'max'], // unlimited memory, swap unset: unlimited swap too
    [100, -1, 'max'],
    [-1, -1, 'max'],
    [0, 0, undefined],
    [100, 0, undefined], // swap unset: nothing written
    [-1, 300, '300'], // unlimited memory: the total is all swap
    [100, 300, '200'],
    [100, 100, '0'], // equal: no swap at all
    [536870912, 1073741824, '536870912'],
  ])('limit %d, swap %d → %s', (limit, swap, expected) => {
    expect(swapMax(limit, swap)).toBe(expected);
  });

  it('refuses a total without a limit, and a total below the limit', () => {
    expect(() => swapMax(0, 300)).toThrow('linux.resources.memory.swap: 300 is memory+swap, and cgroup v2 limits swap alone (swap - limit): set linux.resources.memory.limit too');
    expect(() => swapMax(300, 100)).toThrow('linux.resources.memory.swap: memory+swap (100) is below linux.resources.memory.limit (300)');
  });
});

describe('memory fields cgroup v2 does not have', () => {
  it('refuses kernel, kernelTCP and swappiness, accepts kernel -1 (no limit, which is all v2 has)', () => {
    expect(() => planResources({ memory: { kernel: 1 << 20 } })).toThrow(/^linux\.resources\.memory\.kernel: cgroup v2 has no separate kernel memory limit/);
    expect(() => planResources({ memory: { kernelTCP: 1 << 20 } })).toThrow(/^linux\.resources\.memory\.kernelTCP: /);
    expect(() => planResources({ memory: { swappiness: 0 } })).toThrow(/^linux\.resources\.memory\.swappiness: cgroup v2 has no per-cgroup swappiness/);
    expect(planResources({ memory: { kernel: -1, kernelTCP: -1 } }).writes).toEqual([]);
  });

  it('accepts useHierarchy true (v2 is hierarchical) and refuses false', () => {
    expect(planResources({ memory: { useHierarchy: true } }).writes).toEqual([]);
    expect(() => planResources({ memory: { useHierarchy: false } })).toThrow(/useHierarchy: cgroup v2 accounting is always hierarchical/);
  });

  it('ignores disableOOMKiller as runc does, but says so', () => {
    const plan = planResources({ memory: { limit: 100, disableOOMKiller: true } });
    expect(plan.writes.map((w) => w.file)).toEqual(['memory.max']);
    expect(plan.ignored).toEqual([
      'linux.resources.memory.disableOOMKiller: ignored: cgroup v2 cannot disable the OOM killer, which stays on for this container (as with runc)',
    ]);
    expect(planResources({ memory: { disableOOMKiller: false } }).ignored).toEqual([]);
  });

  it('plans nothing for checkBeforeUpdate (only update reads it)', () => {
    expect(planResources({ memory: { checkBeforeUpdate: true } }).writes).toEqual([]);
  });
});
