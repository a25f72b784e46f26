import { describe, expect, it } from 'vitest';
import { closeRangesExcept, FdTable } from '../../../src/linux/fd-table.js';

const MAX = 0xffffffff;

describe('FdTable', () => {
  it('predicts the lowest free number, as open(2) returns it', () => {
    const fds = new FdTable([0, 1, 2, 4, 7]);
    expect(fds.open()).toBe(3);
    expect(fds.open()).toBe(5);
    expect(fds.open()).toBe(6);
    expect(fds.open()).toBe(8);
  });

  it('starts at 0 when nothing is kept', () => {
    const fds = new FdTable([]);
    expect(fds.open()).toBe(0);
    expect(fds.open()).toBe(1);
  });

  it('reuses a closed number, the lowest first', () => {
    const fds = new FdTable([0, 1, 2]);
    const a = fds.open();
    const b = fds.open();
    const c = fds.open();
    expect([a, b, c]).toEqual([3, 4, 5]);
    fds.close(5);
    fds.close(4);
    expect(fds.has(4)).toBe(false);
    expect(fds.has(3)).toBe(true);
    expect(fds.open()).toBe(4);
    expect(fds.open()).toBe(5);
    expect(fds.open()).toBe(6);
  });

  it('refuses to close an fd it does not hold (a planner bug)', () => {
    const fds = new FdTable([0, 1, 2]);
    expect(() => fds.close(3)).toThrow('fd 3 is not open in the planned table');
    fds.close(2);
    expect(() => fds.close(2)).toThrow(/fd 2 is not open/);
  });

  it('does not alias the iterable it was built from', () => {
    const kept = [0, 1, 2];
    const fds = new FdTable(kept);
    kept.push(3);
    expect(fds.open()).toBe(3);
  });
});

describe('closeRangesExcept', () => {
  it('closes everything from `from` when nothing is kept', () => {
    expect(closeRangesExcept(3, [])).toEqual([[3, MAX]]);
    expect(closeRangesExcept(0, [])).toEqual([[0, MAX]]);
  });

  it('ignores kept fds below `from` (they are not in any range anyway)', () => {
    expect(closeRangesExcept(3, [0, 1, 2])).toEqual([[3, MAX]]);
    expect(closeRangesExcept(5, [1, 4, 9])).toEqual([
      [5, 8],
      [10, MAX],
    ]);
  });

  it('leaves a hole for each kept fd', () => {
    expect(closeRangesExcept(3, [17, 18, 21])).toEqual([
      [3, 16],
      [19, 20],
      [22, MAX],
    ]);
  });

  it('does not emit empty ranges between adjacent kept fds', () => {
    expect(closeRangesExcept(3, [5, 6, 7])).toEqual([
      [3, 4],
      [8, MAX],
    ]);
  });

  it('keeps `from` itself when it is kept', () => {
    expect(closeRangesExcept(3, [3, 4])).toEqual([[5, MAX]]);
  });

  it('treats duplicates and any order the same as a sorted set', () => {
    expect(closeRangesExcept(3, [9, 5, 9, 5, 6])).toEqual([
      [3, 4],
      [7, 8],
      [10, MAX],
    ]);
  });

  it('covers every fd except the kept ones, exactly once', () => {
    const keep = [0, 2, 3, 8, 9, 11, 30];
    const ranges = closeRangesExcept(3, keep);
    const closed = (fd: number) => ranges.filter(([a, b]) => fd >= a && fd <= b).length;
    for (let fd = 0; fd < 64; fd += 1) {
      const expected = fd >= 3 && !keep.includes(fd) ? 1 : 0;
      expect(closed(fd), `fd ${fd}`).toBe(expected);
    }
    expect(ranges.at(-1)).toEqual([31, MAX]);
  });
});
