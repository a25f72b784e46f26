import { existsSync, readFileSync } from 'node:fs';
import { isPlacementFrozen } from '../../linux/cgroups/frozen.js';
import type { ContainerStatus } from '../../config/types.js';
import type { ContainerRecord } from './container-record.js';
import type { StateStore } from './state-store.js';

/** A status a container can be seen in from outside: "creating" only exists inside create. */
export type LiveStatus = Exclude<ContainerStatus, 'creating'>;

export interface ProcessStat {
  /** Field 3: R, S, D, Z, T, X, ... */
  readonly state: string;
  /** Field 22: clock ticks after boot at which the process started. */
  readonly startTime: number;
}

/** /proc/<pid>/stat, or undefined when no such process exists. */
export function readProcessStat(pid: number): ProcessStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return undefined;
    throw error;
  }
  // Field 2 (comm) is in parentheses and may itself contain spaces and ")".
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const startTime = Number(fields[19]);
  if (state === undefined || !Number.isSafeInteger(startTime)) {
    throw new Error(`/proc/${pid}/stat has an unexpected format: ${text}`);
  }
  return { state, startTime };
}

/** The value to record as ContainerRecord.pidStartTime for a process just created. */
export function processStartTime(pid: number): number {
  const stat = readProcessStat(pid);
  if (stat === undefined) throw new Error(`process ${pid} exited before its start time could be read`);
  return stat.startTime;
}

/**
 * The status as runc derives it: the init process must still be the one we
 * created (same start time, not a zombie); a frozen cgroup means paused; an
 * exec.fifo not yet opened by `start` means created.
 */
export function liveStatus(store: StateStore, record: ContainerRecord): LiveStatus {
  if (!initAlive(record)) return 'stopped';
  if (record.cgroup !== undefined && isPlacementFrozen(record.cgroup)) return 'paused';
  if (existsSync(store.fifoPath(record.id))) return 'created';
  return 'running';
}

function initAlive(record: ContainerRecord): boolean {
  return processAlive(record.pid, record.pidStartTime);
}

/** Whether `pid` is still the process that started at `startTime`, and not a zombie. */
export function processAlive(pid: number, startTime: number): boolean {
  if (pid <= 0) return false;
  const stat = readProcessStat(pid);
  if (stat === undefined || stat.startTime !== startTime) return false;
  return stat.state !== 'Z' && stat.state !== 'X' && stat.state !== 'x';
}
