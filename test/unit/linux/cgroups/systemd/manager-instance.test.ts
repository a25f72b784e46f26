import { describe, expect, it } from 'vitest';
import { hostUid } from '../../../../../src/linux/cgroups/systemd/manager-instance.js';

describe("the caller's uid as systemd sees it", () => {
  it('is the euid itself outside any user namespace', () => {
    expect(hostUid('         0          0 4294967295\n', 1000)).toBe(1000);
  });

  it("is the host uid an id map gives root of rootless podman's namespace, and any other mapped id", () => {
    const map = '         0       1000          1\n         1     100000      65536\n';
    expect(hostUid(map, 0)).toBe(1000);
    expect(hostUid(map, 5)).toBe(100004);
  });
});
