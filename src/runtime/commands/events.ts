import { setTimeout as sleep } from 'node:timers/promises';
import { Container } from '../container/container.js';
import type { GlobalOptions } from '../options.js';

export interface EventsOptions {
  /** Print one stats event and return. */
  readonly stats: boolean;
  /** Between two stats events when streaming. */
  readonly intervalMs: number;
}

/** How often a streaming `events` looks for the container's end. */
const WATCH_MS = 100;

/**
 * `tsrun events`: with `stats`, one {"type":"stats"} line; otherwise a
 * stats line every interval and an {"type":"oom"} line whenever the kernel
 * OOM-kills in the container (told by the kernel's OOM notification, and
 * counted by its cgroup, so a notification without a new kill is not
 * reported), until the container stops. Lines are runc's. Like state and
 * list, events only reads: no lock.
 */
export async function events(g: GlobalOptions, id: string, o: EventsOptions, emit: (line: string) => void): Promise<void> {
  const container = Container.read(g.root, id);
  container.allow('watch');
  const cgroup = container.requireCgroup('watched');
  const stats = () => emit(eventLine({ type: 'stats', id, data: cgroup.stats() }));
  if (o.stats) {
    stats();
    return;
  }
  let kills = cgroup.oomKills();
  const reportOoms = () => {
    const now = cgroup.oomKills();
    if (now > kills) emit(eventLine({ type: 'oom', id }));
    kills = now;
  };
  let nextStats = Date.now() + o.intervalMs;
  const stopWatching = cgroup.watchOoms(reportOoms);
  try {
    while (container.status() !== 'stopped') {
      if (Date.now() >= nextStats) {
        stats();
        nextStats += o.intervalMs;
      }
      await sleep(Math.max(0, Math.min(WATCH_MS, nextStats - Date.now())));
    }
  } finally {
    stopWatching();
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
