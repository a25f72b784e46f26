import { describe, expect, it } from 'vitest';
import { deviceLines, planDevices } from '../../../../../src/linux/cgroups/v1/devices.js';
import type { Targets } from '../../../../../src/linux/cgroups/v1/resources/plan.js';

const withDevices: Targets = { v1: new Map([['devices', 'devices']]), unified: undefined, kernelMemoryLimits: false };

function plan(rules: Parameters<typeof planDevices>[0], targets: Targets = withDevices) {
  const problems: string[] = [];
  const ignored: string[] = [];
  return { plan: planDevices(rules, targets, problems, ignored), problems, ignored };
}

describe('device rules on the v1 devices controller', () => {
  it('denies everything, then allows the config\'s rules, then the default devices, naming each rule\'s field', () => {
    const { plan: p } = plan([{ allow: true, type: 'b', major: 8, minor: 0, access: 'r' }]);
    if (p.kind !== 'files') throw new Error(p.kind);
    expect(p.writes.map((w) => [w.write.file, w.write.value, w.write.field])).toEqual([
      ['devices.deny', 'a', 'linux.resources.devices'],
      ['devices.allow', 'b 8:0 r', 'linux.resources.devices[0]'],
      ['devices.allow', 'c *:* m', 'linux.resources.devices (the default devices)'],
      ['devices.allow', 'b *:* m', 'linux.resources.devices (the default devices)'],
      ['devices.allow', 'c 1:3 rwm', 'linux.resources.devices (the default devices)'],
      ['devices.allow', 'c 1:5 rwm', 'linux.resources.devices (the default devices)'],
      ['devices.allow', 'c 1:7 rwm', 'linux.resources.devices (the default devices)'],
      ['devices.allow', 'c 1:8 rwm', 'linux.resources.devices (the default devices)'],
      ['devices.allow', 'c 1:9 rwm', 'linux.resources.devices (the default devices)'],
      ['devices.allow', 'c 5:0 rwm', 'linux.resources.devices (the default devices)'],
      ['devices.allow', 'c 5:2 rwm', 'linux.resources.devices (the default devices)'],
      ['devices.allow', 'c 136:* rwm', 'linux.resources.devices (the default devices)'],
      ['devices.allow', 'c 10:200 rwm', 'linux.resources.devices (the default devices)'],
    ]);
    expect(p.writes.every((w) => w.hierarchy === 'devices')).toBe(true);
  });

  it('writes a whole-device "a" rule as "a", and a narrowed one as the same rule for char and block devices', () => {
    expect(deviceLines({ allow: true, type: 'a', major: '*', minor: '*', access: 7 })).toEqual(['a']);
    // The kernel would read "a 1:3 r" as "every device, every access".
    expect(deviceLines({ allow: true, type: 'a', major: 1, minor: 3, access: 2 })).toEqual(['c 1:3 r', 'b 1:3 r']);
    expect(deviceLines({ allow: false, type: 'a', major: '*', minor: '*', access: 4 })).toEqual(['c *:* w', 'b *:* w']);
    expect(deviceLines({ allow: true, type: 'c', major: 4, minor: '*', access: 5 })).toEqual(['c 4:* wm']);
  });

  it('reports a malformed rule as a problem', () => {
    expect(plan([{ allow: true, type: 'c', major: 1, minor: 3, access: 'x' }]).problems).toEqual([
      'linux.resources.devices[0].access: "x" may only contain r, w and m',
    ]);
  });

  it('falls back to the BPF program on a hybrid host without a v1 devices hierarchy', () => {
    const hybrid: Targets = { v1: new Map([['memory', 'memory']]), unified: { mountPoint: '/u', controllers: () => new Set() }, kernelMemoryLimits: false };
    expect(plan(undefined, hybrid).plan).toEqual({ kind: 'program', hierarchy: '' });
  });

  it('without any device control, refuses rules and warns about the defaults', () => {
    const none: Targets = { v1: new Map([['memory', 'memory']]), unified: undefined, kernelMemoryLimits: false };
    expect(plan([{ allow: false, access: 'rwm' }], none).problems).toEqual([expect.stringMatching(/^linux\.resources\.devices needs the cgroup v1 devices controller/)]);
    expect(plan(undefined, none)).toMatchObject({ plan: { kind: 'none' }, problems: [], ignored: [expect.stringMatching(/no devices cgroup on this host/)] });
  });
});
