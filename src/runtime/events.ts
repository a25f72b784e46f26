import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { hugePageSizeName, readCgroupStats } from '../linux/cgroups/stats.js';
import { cgroupOf } from './container-cgroup.js';
import type { GlobalOptions } from './options.js';
import { StateStore } from './state-store.js';
import { liveStatus } from './status.js';

export interface EventsOptions {
  /** Print one stats event and return. */
  readonly stats: boolean;
  /** Between two stats events when streaming. */
  readonly intervalMs: number;
}

/** How often a streaming `events` looks for OOM kills and for the container's end. */
const WATCH_MS = 100;

// Like state and list, events only reads files: no lock, no koffi.
const files = { readFile: (path: string) => readFileSync(path, 'utf8') };

/**
 * `tsrun events`: with `stats`, one {"type":"stats"} line; otherwise a
 * stats line every interval and an {"type":"oom"} line whenever the kernel
 * OOM-kills in the container (the oom_kill count of memory.events grows),
 * until the container stops. Lines are runc's.
 */
export async function events(g: GlobalOptions, id: string, o: EventsOptions, emit: (line: string) => void): Promise<void> {
  const store = new StateStore(g.root);
  const record = store.read(id);
  if (liveStatus(store, record) === 'stopped') throw new Error(`container with id ${id} is not running`);
  const cgroup = cgroupOf(record, 'watched');
  const pageSizes = hugePageSizes();
  const stats = () => emit(eventLine({ type: 'stats', id, data: readCgroupStats(files, cgroup, pageSizes) }));
  if (o.stats) {
    stats();
    return;
  }
  let kills = oomKills(cgroup);
  const reportOoms = () => {
    const now = oomKills(cgroup);
    if (now > kills) emit(eventLine({ type: 'oom', id }));
    kills = now;
  };
  let nextStats = Date.now() + o.intervalMs;
  while (liveStatus(store, record) !== 'stopped') {
    reportOoms();
    if (Date.now() >= nextStats) {
      stats();
      nextStats += o.intervalMs;
    }
    await sleep(Math.max(0, Math.min(WATCH_MS, nextStats - Date.now())));
  }
  // The kill that ended the container is counted by the time its init is gone.
  reportOoms();
}

/** One event as a JSON line, counters as exact integers. */
export function eventLine(event: { type: string; id: string; data?: unknown }): string {
  const marker = '\u0000';
  const json = JSON.stringify(event, (_key, v: unknown) => (typeof v === 'bigint' ? `${marker}${v}${marker}` : v));
  return `${json.replace(/"\\u0000(\d+)\\u0000"/g, '$1')}\n`;
}

/** memory.events' oom_kill; 0 without the memory controller, where no OOM kill can be seen. */
function oomKills(cgroup: string): number {
  try {
    const line = readFileSync(join(cgroup, 'memory.events'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('oom_kill '));
    return Number(line?.slice('oom_kill '.length) ?? 0);
  } catch {
    return 0;
  }
}

function hugePageSizes(): string[] {
  try {
    return readdirSync('/sys/kernel/mm/hugepages')
      .map(hugePageSizeName)
      .filter((name): name is string => name !== undefined);
  } catch {
    return [];
  }
}
