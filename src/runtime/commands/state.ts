import { readFileSync } from 'node:fs';
import { logger } from '../log.js';
import type { ContainerRecord } from '../container/container-record.js';
import type { GlobalOptions } from '../options.js';
import { ContainerNotFoundError, StateStore } from '../container/state-store.js';
import { liveStatus, type LiveStatus } from '../container/status.js';

/** What `state` and `list` print: runc's containerState, field for field. */
export interface ContainerSummary {
  readonly ociVersion: string;
  readonly id: string;
  /** 0 once the container has stopped. */
  readonly pid: number;
  readonly status: LiveStatus;
  readonly bundle: string;
  readonly rootfs: string;
  readonly created: string;
  readonly annotations?: Readonly<Record<string, string>>;
  /** User name of the creator, or #uid when it has none. */
  readonly owner: string;
}

// These commands only read files: no lock (so no koffi), and a container
// changing underneath is reported as it was a moment ago.

export function state(g: GlobalOptions, id: string): ContainerSummary {
  const store = new StateStore(g.root);
  return summarize(store, store.read(id), userNames());
}

export function list(g: GlobalOptions): ContainerSummary[] {
  const store = new StateStore(g.root);
  const names = userNames();
  const summaries: ContainerSummary[] = [];
  for (const id of store.ids()) {
    try {
      summaries.push(summarize(store, store.read(id), names));
    } catch (error) {
      // Being created or deleted right now: not a container yet, or any more.
      if (error instanceof ContainerNotFoundError) continue;
      logger.warn(`load container ${id}: ${(error as Error).message}`);
    }
  }
  return summaries;
}

function summarize(store: StateStore, record: ContainerRecord, names: ReadonlyMap<number, string>): ContainerSummary {
  const status = liveStatus(store, record);
  return {
    ociVersion: record.ociVersion,
    id: record.id,
    pid: status === 'stopped' ? 0 : record.pid,
    status,
    bundle: record.bundle,
    rootfs: record.rootfs,
    created: record.created,
    ...(record.annotations === undefined ? {} : { annotations: record.annotations }),
    owner: names.get(record.owner) ?? `#${record.owner}`,
  };
}

function userNames(): ReadonlyMap<number, string> {
  const names = new Map<number, string>();
  let passwd: string;
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return names;
  }
  for (const line of passwd.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name !== undefined && uid !== undefined && !names.has(Number(uid))) names.set(Number(uid), name);
  }
  return names;
}
