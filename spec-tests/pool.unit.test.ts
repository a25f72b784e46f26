import { describe, expect, it } from 'vitest';
import { mapWithLimit } from './harness/pool.js';

describe('mapWithLimit', () => {
  it('keeps the input order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const results = await mapWithLimit([30, 10, 20, 5, 1], 2, async (delay) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, delay));
      running--;
      return delay * 2;
    });
    expect(results).toEqual([60, 20, 40, 10, 2]);
    expect(peak).toBe(2);
  });

  it('handles fewer items than the limit, and none', async () => {
    expect(await mapWithLimit([1], 4, async (item) => item + 1)).toEqual([2]);
    expect(await mapWithLimit([], 2, async (item: number) => item)).toEqual([]);
  });
});
