import { describe, expect, it } from 'vitest';
import type { LinuxDeviceCgroup } from '../../../../src/config/types.js';
import { ACCESS, decide, effectiveDeviceRules, type DeviceRequest } from '../../../../src/linux/cgroups/device-rules.js';

const { MKNOD: M, READ: R, WRITE: W } = ACCESS;
const char = (major: number, minor: number, access: number): DeviceRequest => ({ type: 'c', major, minor, access });
const allowed = (spec: LinuxDeviceCgroup[] | undefined, request: DeviceRequest) => decide(effectiveDeviceRules(spec), request);
const DENY_ALL: LinuxDeviceCgroup = { allow: false, access: 'rwm' };

describe('effectiveDeviceRules', () => {
  it('allows the default devices and nothing else when the config denies all', () => {
    for (const [major, minor] of [[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 2], [136, 0], [136, 7], [10, 200]] as const) {
      expect(allowed([DENY_ALL], char(major, minor, R | W)), `c ${major}:${minor}`).toBe(true);
    }
    expect(allowed([DENY_ALL], char(1, 11, R))).toBe(false); // /dev/kmsg
    expect(allowed([DENY_ALL], char(5, 1, W))).toBe(false); // the host's console
    expect(allowed([DENY_ALL], { type: 'b', major: 8, minor: 0, access: R })).toBe(false);
  });

  it('starts from deny: no config allows only the defaults', () => {
    expect(allowed(undefined, char(1, 11, R))).toBe(false);
    expect(allowed(undefined, char(1, 3, R))).toBe(true);
  });

  it('lets any device node be created, but not opened', () => {
    expect(allowed([DENY_ALL], char(1, 11, M))).toBe(true);
    expect(allowed([DENY_ALL], { type: 'b', major: 8, minor: 0, access: M })).toBe(true);
    expect(allowed([DENY_ALL], char(1, 11, M | R))).toBe(false);
  });

  it('puts the defaults last, so a config cannot take /dev/null away', () => {
    expect(allowed([{ allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' }], char(1, 3, R | W))).toBe(true);
  });

  it('lets the later rule win, bit by bit', () => {
    const spec: LinuxDeviceCgroup[] = [DENY_ALL, { allow: true, type: 'c', major: 1, minor: 11, access: 'rw' }, { allow: false, type: 'c', major: 1, minor: 11, access: 'w' }];
    expect(allowed(spec, char(1, 11, R))).toBe(true);
    expect(allowed(spec, char(1, 11, W))).toBe(false);
    expect(allowed(spec, char(1, 11, R | W))).toBe(false);
    // and the other way round: a later allow overrides an earlier deny
    expect(allowed([...spec, { allow: true, type: 'c', major: 1, access: 'w' }], char(1, 11, R | W))).toBe(true);
  });

  it('allows a request whose bits come from different rules', () => {
    const spec: LinuxDeviceCgroup[] = [DENY_ALL, { allow: true, type: 'c', major: 1, minor: 11, access: 'r' }, { allow: true, type: 'c', major: 1, minor: 11, access: 'w' }];
    expect(allowed(spec, char(1, 11, R | W))).toBe(true);
  });

  it('denies an O_RDWR open when only writing is denied', () => {
    const spec: LinuxDeviceCgroup[] = [{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 11, access: 'w' }];
    expect(allowed(spec, char(1, 11, R | W))).toBe(false);
    expect(allowed(spec, char(1, 11, R))).toBe(true);
  });

  it('punches holes in wildcard rules', () => {
    const spec: LinuxDeviceCgroup[] = [DENY_ALL, { allow: true, type: 'c', access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 11, access: 'rwm' }];
    expect(allowed(spec, char(1, 11, R))).toBe(false);
    expect(allowed(spec, char(1, 12, R))).toBe(true);
  });

  it('reads absent type, major, minor and -1 as "any"', () => {
    const spec: LinuxDeviceCgroup[] = [DENY_ALL, { allow: true, major: 7, minor: -1, access: 'r' }];
    expect(allowed(spec, { type: 'b', major: 7, minor: 3, access: R })).toBe(true);
    expect(allowed(spec, char(7, 64, R))).toBe(true);
    expect(allowed(spec, char(8, 64, R))).toBe(false);
  });

  it('refuses rules it cannot enforce as written', () => {
    expect(() => effectiveDeviceRules([{ allow: true, type: 'c', major: 1 }])).toThrow('linux.resources.devices[0].access');
    expect(() => effectiveDeviceRules([DENY_ALL, { allow: true, access: '' }])).toThrow('linux.resources.devices[1].access');
    expect(() => effectiveDeviceRules([{ allow: true, access: 'rx' }])).toThrow('may only contain r, w and m');
    expect(() => effectiveDeviceRules([{ allow: true, major: 4096, access: 'r' }])).toThrow('devices[0].major: 4096');
    expect(() => effectiveDeviceRules([{ allow: true, minor: -2, access: 'r' }])).toThrow('devices[0].minor: -2');
  });
});
