/**
 * The container process's fd table as the chain will see it. Inside the chain
 * a returned fd cannot be captured, but after the chain has closed every fd it
 * does not keep, open(2) returns the lowest free number, so the planner can
 * predict each one by replaying the opens and closes here.
 */
export class FdTable {
  private readonly used: Set<number>;

  constructor(kept: Iterable<number>) {
    this.used = new Set(kept);
  }

  /** The fd the next open(2) will return, now marked as used. */
  open(): number {
    let fd = 0;
    while (this.used.has(fd)) fd += 1;
    this.used.add(fd);
    return fd;
  }

  close(fd: number): void {
    if (!this.used.delete(fd)) throw new Error(`fd ${fd} is not open in the planned table`);
  }

  has(fd: number): boolean {
    return this.used.has(fd);
  }
}

/**
 * close_range(2) calls that close every fd from `from` upwards except `keep`.
 * Returned as [first, last] pairs; last is ~0U for the open-ended range.
 */
export function closeRangesExcept(from: number, keep: readonly number[]): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let start = from;
  for (const fd of [...new Set(keep)].filter((k) => k >= from).sort((a, b) => a - b)) {
    if (fd > start) ranges.push([start, fd - 1]);
    start = fd + 1;
  }
  ranges.push([start, 0xffffffff]);
  return ranges;
}

/** The fds a container keeps besides stdio: 3 .. 3+count-1 (--preserve-fds, LISTEN_FDS). */
export function preservedRange(count: number): number[] {
  return Array.from({ length: count }, (_, i) => 3 + i);
}
