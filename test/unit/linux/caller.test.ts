import { describe, expect, it } from 'vitest';
import { inInitialUserNamespace } from '../../../src/linux/caller.js';

describe('inInitialUserNamespace', () => {
  it('is the host\'s user namespace only for the identity map over every id', () => {
    expect(inInitialUserNamespace(() => '         0          0 4294967295\n')).toBe(true);
    // Rootless podman's: its user's uid as root, then the subordinate range.
    expect(inInitialUserNamespace(() => '         0       1001          1\n         1     100000      65536\n')).toBe(false);
    expect(inInitialUserNamespace(() => '0 0 65536\n')).toBe(false);
    expect(inInitialUserNamespace(() => '0 100000 4294967295\n')).toBe(false);
  });
});
