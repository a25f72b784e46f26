import { join } from 'node:path';
import type { HostKernel } from '../../../ffi/host-kernel.js';

type Reader = Pick<HostKernel, 'readFile'>;

/** How runc reports "max" (Go's MaxUint64), kept exact: counters are bigints throughout. */
export const UNLIMITED = 18_446_744_073_709_551_615n;

export interface PsiData {
  readonly avg10: number;
  readonly avg60: number;
  readonly avg300: number;
  readonly total: bigint;
}
export interface Psi {
  readonly some?: PsiData;
  readonly full?: PsiData;
}
export interface MemoryEntry {
  readonly limit: bigint;
  readonly usage?: bigint;
  readonly max?: bigint;
  readonly failcnt: bigint;
}
export interface BlkioEntry {
  readonly major?: bigint;
  readonly minor?: bigint;
  readonly op?: string;
  readonly value?: bigint;
}

/**
 * The "data" of `tsrun events --stats`, shaped as runc's (types.Stats,
 * with Go's omitempty and omitzero rules: zero counters and all-zero
 * objects are left out), read from a cgroup v2 directory. What a cgroup
 * lacks (a controller not enabled, an older kernel) is reported as runc
 * reports it then: absent, or zero. cpuset, intel_rdt and network
 * interfaces have nothing to read on cgroup v2 here and keep runc's empty
 * shapes.
 */
export interface CgroupStats {
  readonly cpu: {
    readonly usage?: { readonly total?: bigint; readonly kernel: bigint; readonly user: bigint };
    readonly throttling?: { readonly periods?: bigint; readonly throttledPeriods?: bigint; readonly throttledTime?: bigint };
    readonly psi?: Psi;
  };
  readonly cpuset: Readonly<Record<string, bigint>>;
  readonly memory: {
    readonly cache?: bigint;
    readonly usage?: MemoryEntry;
    readonly swap?: MemoryEntry;
    readonly raw?: Readonly<Record<string, bigint>>;
    readonly psi?: Psi;
  };
  readonly pids: { readonly current?: bigint; readonly limit?: bigint };
  readonly blkio: { readonly ioServiceBytesRecursive?: BlkioEntry[]; readonly ioServicedRecursive?: BlkioEntry[]; readonly psi?: Psi };
  readonly hugetlb: Readonly<Record<string, { readonly usage?: bigint; readonly failcnt: bigint }>>;
  readonly intel_rdt: Readonly<Record<string, never>>;
  readonly network_interfaces: null;
}

/** `pageSizes` are the spec's names ("2MB"), see hugePageSizeName. */
export function readCgroupStats(reader: Reader, dir: string, pageSizes: readonly string[]): CgroupStats {
  const file = (name: string) => readIfPresent(reader, join(dir, name));
  return {
    cpu: cpuStats(file),
    cpuset: CPUSET_ZEROS,
    memory: memoryStats(file),
    pids: pidsStats(file),
    blkio: blkioStats(file),
    hugetlb: hugetlbStats(file, pageSizes),
    intel_rdt: {},
    network_interfaces: null,
  };
}

/**
 * "hugepages-2048kB" (a directory of /sys/kernel/mm/hugepages) → "2MB": the
 * name the kernel gives the size in hugetlb.<size>.* files (whole GB, MB or
 * KB, the largest unit the size reaches).
 */
export function hugePageSizeName(directory: string): string | undefined {
  const kb = /^hugepages-(\d+)kB$/.exec(directory)?.[1];
  if (kb === undefined) return undefined;
  const size = Number(kb);
  if (size >= 2 ** 20) return `${Math.floor(size / 2 ** 20)}GB`;
  if (size >= 2 ** 10) return `${Math.floor(size / 2 ** 10)}MB`;
  return `${size}KB`;
}

type FileReader = (name: string) => string | undefined;

// runc's CPUSet stats are cgroup v1's; on v2 it reports these zeros.
const CPUSET_ZEROS: Readonly<Record<string, bigint>> = Object.fromEntries(
  [
    'cpu_exclusive',
    'mem_hardwall',
    'mem_exclusive',
    'memory_migrate',
    'memory_spread_page',
    'memory_spread_slab',
    'memory_pressure',
    'sched_load_balance',
    'sched_relax_domain_level',
  ].map((key) => [key, 0n]),
);

function cpuStats(file: FileReader): CgroupStats['cpu'] {
  const stat = keyed(file('cpu.stat'));
  const ns = (key: string) => (stat.get(key) ?? 0n) * 1000n;
  const usage = { ...nonZero('total', ns('usage_usec')), kernel: ns('system_usec'), user: ns('user_usec') };
  const throttling = {
    ...nonZero('periods', stat.get('nr_periods')),
    ...nonZero('throttledPeriods', stat.get('nr_throttled')),
    ...nonZero('throttledTime', ns('throttled_usec')),
  };
  const psi = pressure(file('cpu.pressure'));
  return {
    ...(allZero(usage) ? {} : { usage }),
    ...(allZero(throttling) ? {} : { throttling }),
    ...(psi === undefined ? {} : { psi }),
  };
}

function memoryStats(file: FileReader): CgroupStats['memory'] {
  const stat = file('memory.stat');
  const usage = memoryEntry(file, 'memory');
  const psi = pressure(file('memory.pressure'));
  // Without memory.stat or memory.current (no memory controller), runc reports no usage at all.
  if (stat === undefined || usage === undefined) return psi === undefined ? {} : { psi };
  const raw = keyed(stat);
  // runc reports swap as cgroup v1 did: memory+swap, and no peak for the sum.
  const swapOnly = memoryEntry(file, 'memory.swap') ?? { limit: 0n, failcnt: 0n };
  const swap: MemoryEntry = {
    limit: swapOnly.limit === UNLIMITED || usage.limit === UNLIMITED ? UNLIMITED : swapOnly.limit + usage.limit,
    ...nonZero('usage', (swapOnly.usage ?? 0n) + (usage.usage ?? 0n)),
    failcnt: 0n,
  };
  return {
    ...nonZero('cache', raw.get('file')),
    usage,
    swap,
    ...(raw.size === 0 ? {} : { raw: Object.fromEntries(raw) }),
    ...(psi === undefined ? {} : { psi }),
  };
}

/** <prefix>.current, .max and .peak (5.19+); undefined without .current. */
function memoryEntry(file: FileReader, prefix: string): MemoryEntry | undefined {
  const current = file(`${prefix}.current`);
  if (current === undefined) return undefined;
  return {
    limit: value(file(`${prefix}.max`)),
    ...nonZero('usage', value(current)),
    ...nonZero('max', value(file(`${prefix}.peak`))),
    failcnt: 0n,
  };
}

function pidsStats(file: FileReader): CgroupStats['pids'] {
  const current = file('pids.current');
  if (current === undefined) {
    // Without the pids controller, runc counts cgroup.procs and reports no limit.
    const procs = file('cgroup.procs') ?? '';
    return nonZero('current', BigInt(procs.split('\n').filter((line) => line !== '').length));
  }
  const limit = value(file('pids.max'));
  // runc's stats say "no limit" as 0.
  return { ...nonZero('current', value(current)), ...nonZero('limit', limit === UNLIMITED ? 0n : limit) };
}

/** io.stat as runc maps it onto cgroup v1's tables: bytes and operations, each split into Read and Write. */
function blkioStats(file: FileReader): CgroupStats['blkio'] {
  const bytes: BlkioEntry[] = [];
  const ops: BlkioEntry[] = [];
  const tables: Record<string, [BlkioEntry[], string]> = { rbytes: [bytes, 'Read'], wbytes: [bytes, 'Write'], rios: [ops, 'Read'], wios: [ops, 'Write'] };
  for (const line of (file('io.stat') ?? '').split('\n')) {
    const [device = '', ...pairs] = line.trim().split(/\s+/);
    const [major, minor] = device.split(':');
    if (major === undefined || minor === undefined) continue;
    for (const pair of pairs) {
      const [key = '', count = ''] = pair.split('=');
      const table = tables[key];
      if (table === undefined || !/^\d+$/.test(count)) continue;
      table[0].push({ ...nonZero('major', BigInt(major)), ...nonZero('minor', BigInt(minor)), op: table[1], ...nonZero('value', BigInt(count)) });
    }
  }
  const psi = pressure(file('io.pressure'));
  return {
    ...(bytes.length === 0 ? {} : { ioServiceBytesRecursive: bytes }),
    ...(ops.length === 0 ? {} : { ioServicedRecursive: ops }),
    ...(psi === undefined ? {} : { psi }),
  };
}

function hugetlbStats(file: FileReader, pageSizes: readonly string[]): CgroupStats['hugetlb'] {
  const stats: Record<string, { usage?: bigint; failcnt: bigint }> = {};
  for (const size of pageSizes) {
    // Reservations (5.7+) are what hugepageLimits limits where the kernel has them.
    const usage = file(`hugetlb.${size}.rsvd.current`) ?? file(`hugetlb.${size}.current`);
    const events = file(`hugetlb.${size}.events`);
    if (usage === undefined || events === undefined) break;
    stats[size] = { ...nonZero('usage', value(usage)), failcnt: keyed(events).get('max') ?? 0n };
  }
  return stats;
}

/** A *.pressure file (PSI); undefined when the kernel has none. */
function pressure(text: string | undefined): Psi | undefined {
  if (text === undefined) return undefined;
  const psi: { some?: PsiData; full?: PsiData } = {};
  for (const line of text.split('\n')) {
    const [kind, ...pairs] = line.trim().split(/\s+/);
    if (kind !== 'some' && kind !== 'full') continue;
    const fields = new Map(pairs.map((pair) => pair.split('=') as [string, string]));
    const data = {
      avg10: Number(fields.get('avg10') ?? 0),
      avg60: Number(fields.get('avg60') ?? 0),
      avg300: Number(fields.get('avg300') ?? 0),
      total: BigInt(fields.get('total') ?? 0),
    };
    if (!allZero(data)) psi[kind] = data;
  }
  return psi;
}

/** A single-value file: a number, or "max". Absent counts as 0. */
function value(text: string | undefined): bigint {
  const trimmed = text?.trim() ?? '';
  if (trimmed === 'max') return UNLIMITED;
  return /^\d+$/.test(trimmed) ? BigInt(trimmed) : 0n;
}

/** A flat-keyed file: "key value" per line. */
function keyed(text: string | undefined): Map<string, bigint> {
  const map = new Map<string, bigint>();
  for (const line of (text ?? '').split('\n')) {
    const [key, count] = line.trim().split(/\s+/);
    if (key !== undefined && count !== undefined && /^\d+$/.test(count)) map.set(key, BigInt(count));
  }
  return map;
}

function nonZero<K extends string>(key: K, n: bigint | undefined): { [P in K]?: bigint } {
  return (n === undefined || n === 0n ? {} : { [key]: n }) as { [P in K]?: bigint };
}

function allZero(object: object): boolean {
  return Object.values(object).every((v) => v === undefined || v === 0 || v === 0n);
}

function readIfPresent(reader: Reader, path: string): string | undefined {
  try {
    return reader.readFile(path);
  } catch (error) {
    // No such file (controller not enabled, older kernel), or the cgroup went away meanwhile.
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENODEV' || code === 'EOPNOTSUPP') return undefined;
    throw error;
  }
}
