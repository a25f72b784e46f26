import type { CgroupWrite } from '../v2/resources/cgroup-write.js';
import type { UnitProperty } from './bus.js';

/** systemd's "infinity" for a 64-bit limit (as a decimal string: it is beyond a double's integers). */
const INFINITY = '18446744073709551615';
const USEC_PER_SEC = 1_000_000;

/** What systemd is told of the container's scope when it starts it. */
export interface ScopeRequest {
  readonly id: string;
  readonly pid: number;
  /** The slice unit the scope goes into ("system.slice"). */
  readonly slice: string;
  /** The limits tsrun writes to the scope's cgroup v2 files. */
  readonly writes: readonly CgroupWrite[];
}

/**
 * The properties of the container's transient scope, as runc gives them:
 * the process, the slice, Delegate (the cgroup is the container's to
 * manage), no default dependencies (a container does not wait for, or
 * stop with, the boot's targets), accounting on for every controller. And
 * every limit systemd itself manages, with the value tsrun writes: systemd
 * writes a unit's limits again on each daemon-reload, and would otherwise
 * put its defaults back over the container's.
 */
export function scopeProperties(request: ScopeRequest): UnitProperty[] {
  return [
    ['Description', ['s', `tsrun container ${request.id}`]],
    ['Slice', ['s', request.slice]],
    ['PIDs', ['au', [request.pid]]],
    ['Delegate', ['b', true]],
    ['DefaultDependencies', ['b', false]],
    ['MemoryAccounting', ['b', true]],
    ['CPUAccounting', ['b', true]],
    ['IOAccounting', ['b', true]],
    ['TasksAccounting', ['b', true]],
    ...limitProperties(request.writes),
  ];
}

/** The unit properties for the cgroup v2 writes systemd also makes; the rest it leaves alone. */
export function limitProperties(writes: readonly CgroupWrite[]): UnitProperty[] {
  const properties: UnitProperty[] = [];
  for (const write of writes) {
    const value = write.value.trim();
    switch (write.file) {
      case 'memory.max':
        properties.push(['MemoryMax', ['t', limit(value)]]);
        break;
      case 'memory.high':
        properties.push(['MemoryHigh', ['t', limit(value)]]);
        break;
      case 'memory.low':
        properties.push(['MemoryLow', ['t', limit(value)]]);
        break;
      case 'memory.swap.max':
        properties.push(['MemorySwapMax', ['t', limit(value)]]);
        break;
      case 'pids.max':
        properties.push(['TasksMax', ['t', limit(value)]]);
        break;
      case 'cpu.weight':
        properties.push(['CPUWeight', ['t', value]]);
        break;
      case 'cpu.max':
        properties.push(...cpuMaxProperties(value));
        break;
      case 'cpuset.cpus':
        properties.push(['AllowedCPUs', ['ay', cpuMask(value)]]);
        break;
      case 'cpuset.mems':
        properties.push(['AllowedMemoryNodes', ['ay', cpuMask(value)]]);
        break;
    }
  }
  return properties;
}

function limit(value: string): string {
  return value === 'max' ? INFINITY : value;
}

/** "quota period" (or "max period") as systemd's run time per second and period. */
function cpuMaxProperties(value: string): UnitProperty[] {
  const [quota = 'max', period = '100000'] = value.split(/\s+/);
  const perSecond = quota === 'max' ? INFINITY : String(Math.round((Number(quota) * USEC_PER_SEC) / Number(period)));
  return [
    ['CPUQuotaPerSecUSec', ['t', perSecond]],
    ['CPUQuotaPeriodUSec', ['t', period]],
  ];
}

/**
 * A cpuset list ("0-2,7") as systemd's bitmask bytes: bit n%8 of byte
 * n/8 is cpu (or memory node) n.
 */
export function cpuMask(list: string): number[] {
  const bytes: number[] = [];
  for (const range of list.split(',')) {
    if (range.trim() === '') continue;
    const [first = Number.NaN, last = first] = range.split('-').map((n) => Number(n.trim()));
    if (!Number.isInteger(first) || !Number.isInteger(last) || first < 0 || last < first) {
      throw new Error(`"${list}" is not a cpu list ("0-2,7")`);
    }
    for (let n = first; n <= last; n++) {
      while (bytes.length <= n >> 3) bytes.push(0);
      bytes[n >> 3] = (bytes[n >> 3] ?? 0) | (1 << (n & 7));
    }
  }
  return bytes;
}
