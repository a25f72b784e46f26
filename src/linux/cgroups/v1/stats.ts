import { join } from 'node:path';
import {
  allZero,
  CPUSET_FLAGS,
  hugePageSizes,
  keyed,
  nonZero,
  readIfPresent,
  UNLIMITED,
  value,
  type BlkioEntry,
  type CgroupStats,
  type MemoryEntry,
  type Reader,
} from '../cgroup-stats.js';
import { readCgroupStats } from '../v2/stats.js';

/** Where each controller's files are: a v1 directory, or for huge pages possibly a hybrid host's cgroup2 directory. */
export interface StatsSources {
  readonly v1: (controller: string) => string | undefined;
  /** The container's cgroup2 directory, when the hugetlb controller lives there. */
  readonly unifiedHugetlb: string | undefined;
}

type FileReader = (name: string) => string | undefined;

const NS_PER_TICK = 10_000_000n; // cpuacct.stat counts USER_HZ ticks, 100 per second on every Linux.

export function readV1Stats(reader: Reader, sources: StatsSources, pageSizes: readonly string[] = hugePageSizes()): CgroupStats {
  const files = (controller: string): FileReader => {
    const dir = sources.v1(controller);
    return (name) => (dir === undefined ? undefined : readIfPresent(reader, join(dir, name)));
  };
  return {
    cpu: cpuStats(files('cpu'), files('cpuacct')),
    cpuset: cpusetStats(files('cpuset')),
    memory: memoryStats(files('memory')),
    pids: pidsStats(files('pids')),
    blkio: blkioStats(files('blkio')),
    hugetlb:
      sources.unifiedHugetlb !== undefined && sources.v1('hugetlb') === undefined
        ? readCgroupStats(reader, sources.unifiedHugetlb, pageSizes).hugetlb
        : hugetlbStats(files('hugetlb'), pageSizes),
    intel_rdt: {},
    network_interfaces: null,
  };
}

function cpuStats(cpu: FileReader, cpuacct: FileReader): CgroupStats['cpu'] {
  const ticks = keyed(cpuacct('cpuacct.stat'));
  const percpu = numbers(cpuacct('cpuacct.usage_percpu'));
  const modes = perCpuModes(cpuacct('cpuacct.usage_all'));
  const usage = {
    ...nonZero('total', value(cpuacct('cpuacct.usage'))),
    ...(percpu.length === 0 ? {} : { percpu }),
    ...(modes.kernel.length === 0 ? {} : { percpu_kernel: modes.kernel }),
    ...(modes.user.length === 0 ? {} : { percpu_user: modes.user }),
    kernel: (ticks.get('system') ?? 0n) * NS_PER_TICK,
    user: (ticks.get('user') ?? 0n) * NS_PER_TICK,
  };
  const stat = keyed(cpu('cpu.stat'));
  const throttling = {
    ...nonZero('periods', stat.get('nr_periods')),
    ...nonZero('throttledPeriods', stat.get('nr_throttled')),
    ...nonZero('throttledTime', stat.get('throttled_time')),
  };
  return { ...(allZero(usage) ? {} : { usage }), ...(allZero(throttling) ? {} : { throttling }) };
}

/** cpuacct.usage_all: a "cpu user system" header, then one line per CPU (Linux 4.7+). */
function perCpuModes(text: string | undefined): { kernel: bigint[]; user: bigint[] } {
  const kernel: bigint[] = [];
  const user: bigint[] = [];
  const [header = '', ...lines] = (text ?? '').split('\n');
  if (!header.startsWith('cpu user system')) return { kernel, user };
  for (const line of lines) {
    const [, u, s] = line.trim().split(/\s+/);
    if (u === undefined || s === undefined || !/^\d+$/.test(u) || !/^\d+$/.test(s)) continue;
    user.push(BigInt(u));
    kernel.push(BigInt(s));
  }
  return { kernel, user };
}


function cpusetStats(file: FileReader): CgroupStats['cpuset'] {
  const cpus = cpuList(file('cpuset.cpus'));
  const mems = cpuList(file('cpuset.mems'));
  return {
    // runc's order: the lists come first of their kind.
    ...(cpus.length === 0 ? {} : { cpus }),
    cpu_exclusive: signed(file('cpuset.cpu_exclusive')),
    ...(mems.length === 0 ? {} : { mems }),
    ...Object.fromEntries(CPUSET_FLAGS.slice(1).map((name) => [name, signed(file(`cpuset.${name}`))])),
  };
}

/** "0-3,8" → [0, 1, 2, 3, 8]: the kernel's list format of cpuset.cpus and cpuset.mems. */
export function cpuList(text: string | undefined): number[] {
  const list: number[] = [];
  for (const part of (text ?? '').trim().split(',')) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (range === null) continue;
    const from = Number(range[1]);
    const to = Number(range[2] ?? range[1]);
    for (let n = from; n <= to; n++) list.push(n);
  }
  return list;
}

/** sched_relax_domain_level is -1 by default: the one signed counter. */
function signed(text: string | undefined): bigint {
  const trimmed = text?.trim() ?? '';
  return /^-?\d+$/.test(trimmed) ? BigInt(trimmed) : 0n;
}

function memoryStats(file: FileReader): CgroupStats['memory'] {
  const stat = file('memory.stat');
  if (stat === undefined) return {};
  const raw = keyed(stat);
  const entry = (prefix: string) => memoryEntry(file, prefix);
  const usage = entry('memory');
  const swap = entry('memory.memsw');
  const kernel = entry('memory.kmem');
  const kernelTCP = entry('memory.kmem.tcp');
  return {
    ...nonZero('cache', raw.get('cache')),
    ...(usage === undefined ? {} : { usage }),
    ...(swap === undefined ? {} : { swap }),
    ...(kernel === undefined ? {} : { kernel }),
    ...(kernelTCP === undefined ? {} : { kernelTCP }),
    ...(raw.size === 0 ? {} : { raw: Object.fromEntries(raw) }),
  };
}

/** <prefix>.usage_in_bytes, .limit_in_bytes, .max_usage_in_bytes, .failcnt; undefined without the usage (no swap accounting). */
function memoryEntry(file: FileReader, prefix: string): MemoryEntry | undefined {
  const usage = file(`${prefix}.usage_in_bytes`);
  if (usage === undefined) return undefined;
  return {
    limit: value(file(`${prefix}.limit_in_bytes`)),
    ...nonZero('usage', value(usage)),
    ...nonZero('max', value(file(`${prefix}.max_usage_in_bytes`))),
    failcnt: value(file(`${prefix}.failcnt`)),
  };
}

function pidsStats(file: FileReader): CgroupStats['pids'] {
  const current = file('pids.current');
  if (current === undefined) return {};
  const limit = value(file('pids.max'));
  // runc's stats say "no limit" as 0.
  return { ...nonZero('current', value(current)), ...nonZero('limit', limit === UNLIMITED ? 0n : limit) };
}

/**
 * runc's choice of blkio tables, first that has entries: BFQ's, then
 * CFQ's (gone since Linux 5.0), then the throttle layer's, which counts
 * every I/O whatever the scheduler; recursive ones before the cgroup's own.
 */
const BLKIO_TABLES = [
  ['blkio.bfq.io_serviced_recursive', 'blkio.bfq.io_service_bytes_recursive'],
  ['blkio.io_serviced_recursive', 'blkio.io_service_bytes_recursive'],
  ['blkio.throttle.io_serviced_recursive', 'blkio.throttle.io_service_bytes_recursive'],
  ['blkio.throttle.io_serviced', 'blkio.throttle.io_service_bytes'],
] as const;

function blkioStats(file: FileReader): CgroupStats['blkio'] {
  for (const [servicedFile, bytesFile] of BLKIO_TABLES) {
    const serviced = blkioEntries(file(servicedFile));
    if (serviced.length === 0) continue;
    const bytes = blkioEntries(file(bytesFile));
    return { ...(bytes.length === 0 ? {} : { ioServiceBytesRecursive: bytes }), ioServicedRecursive: serviced };
  }
  return {};
}

/** "8:0 Read 1282048" lines (and "8:0 6792" ones, without an operation); the "Total" line is left out. */
export function blkioEntries(text: string | undefined): BlkioEntry[] {
  const entries: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const match = /^(\d+):(\d+)\s+(?:(\S+)\s+)?(\d+)$/.exec(line.trim());
    if (match === null) continue;
    const [, major = '0', minor = '0', op, count = '0'] = match;
    entries.push({
      ...nonZero('major', BigInt(major)),
      ...nonZero('minor', BigInt(minor)),
      ...(op === undefined ? {} : { op }),
      ...nonZero('value', BigInt(count)),
    });
  }
  return entries;
}

function hugetlbStats(file: FileReader, pageSizes: readonly string[]): CgroupStats['hugetlb'] {
  const stats: Record<string, { usage?: bigint; max?: bigint; failcnt: bigint }> = {};
  for (const size of pageSizes) {
    // Reservations (5.7+) are what hugepageLimits limits where the kernel has them.
    const prefix = file(`hugetlb.${size}.rsvd.usage_in_bytes`) === undefined ? `hugetlb.${size}` : `hugetlb.${size}.rsvd`;
    const usage = file(`${prefix}.usage_in_bytes`);
    if (usage === undefined) break;
    stats[size] = {
      ...nonZero('usage', value(usage)),
      ...nonZero('max', value(file(`${prefix}.max_usage_in_bytes`))),
      failcnt: value(file(`${prefix}.failcnt`)),
    };
  }
  return stats;
}

function numbers(text: string | undefined): bigint[] {
  return (text ?? '')
    .trim()
    .split(/\s+/)
    .filter((n) => /^\d+$/.test(n))
    .map(BigInt);
}

