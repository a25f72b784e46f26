import { randomInt } from 'node:crypto';

/**
 * mulberry32: a 32-bit state is enough for test inputs, and a few lines of
 * our own keep the fuzzer free of dependencies and identical on every Node.
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor((this.next() / 0x1_0000_0000) * n);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.below(items.length)] as T;
  }

  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }
}

/** One case's own stream: a case can be replayed from (seed, index) alone. */
export function caseStream(seed: number, index: number): Prng {
  return new Prng((Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0);
}

/** The number: the same cases every run, beside a fresh set. */
export const FIXED_SEED = 14;

/**
 * The run's second seed: TSRUN_FUZZ_SEED (decimal or 0x-hex) repeats a
 * printed run, otherwise a new one each time.
 */
export function randomSeed(): number {
  const given = process.env.TSRUN_FUZZ_SEED;
  if (given !== undefined && given !== '') {
    const seed = Number(given);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) throw new Error(`TSRUN_FUZZ_SEED=${given}: give a 32-bit unsigned integer`);
    return seed;
  }
  return randomInt(0, 0xffff_ffff);
}

export const hex = (seed: number): string => `0x${seed.toString(16).padStart(8, '0')}`;
