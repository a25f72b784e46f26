import { describe, expect, it } from 'vitest';
import { asSeenInside, copyOwnerFor } from '../../../../src/linux/rootfs/copy-owner.js';

const MAP = [{ inside: 0, outside: 100000, size: 65536 }];

describe('the owner a copy for the container gets', () => {
  it('keeps an id the user namespace maps', () => {
    expect(asSeenInside(100000, MAP, 65534)).toBe(100000);
    expect(asSeenInside(101000, MAP, 65534)).toBe(101000);
  });

  it('turns an id the namespace does not map into nobody, as the container sees it (runc copies from inside)', () => {
    expect(asSeenInside(0, MAP, 65534)).toBe(165534);
    expect(asSeenInside(1000, MAP, 65534)).toBe(165534);
  });

  it("keeps the id when not even nobody is mapped, for the kernel's EOVERFLOW to name", () => {
    expect(asSeenInside(1000, [{ inside: 0, outside: 100000, size: 1 }], 65534)).toBe(1000);
  });

  it("changes nothing for a process in tsrun's own user namespace", () => {
    expect(copyOwnerFor(process.pid)(1000, 1001)).toEqual([1000, 1001]);
  });
});
