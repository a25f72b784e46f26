import { describe, expect, it } from 'vitest';
import { defaultRoot } from '../../../src/cli/default-root.js';

describe('defaultRoot, as runc chooses its --root', () => {
  const host = () => true;
  const inner = () => false;
  it('is /run/tsrun for the host\'s root, whatever XDG_RUNTIME_DIR says', () => {
    expect(defaultRoot({ XDG_RUNTIME_DIR: '/run/user/0' }, 0, host)).toBe('/run/tsrun');
    expect(defaultRoot({}, 0, host)).toBe('/run/tsrun');
  });

  it('is under XDG_RUNTIME_DIR for an unprivileged user, and for root of another user namespace (rootless podman)', () => {
    expect(defaultRoot({ XDG_RUNTIME_DIR: '/run/user/1000' }, 1000, host)).toBe('/run/user/1000/tsrun');
    expect(defaultRoot({ XDG_RUNTIME_DIR: '/run/user/1000', USER: 'alice' }, 0, inner)).toBe('/run/user/1000/tsrun');
  });

  it('stays /run/tsrun without XDG_RUNTIME_DIR, or for USER=root in a user namespace (runc\'s exception)', () => {
    expect(defaultRoot({}, 1000, host)).toBe('/run/tsrun');
    expect(defaultRoot({ XDG_RUNTIME_DIR: '/run/user/0', USER: 'root' }, 0, inner)).toBe('/run/tsrun');
  });
});
