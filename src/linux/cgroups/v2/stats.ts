import { join } from 'node:path';
import { allZero, CPUSET_FLAGS, keyed, nonZero, readIfPresent, UNLIMITED, value, type BlkioEntry, type CgroupStats, type MemoryEntry, type Psi, type PsiData, type Reader } from '../cgroup-stats.js';

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

type FileReader = (name: string) => string | undefined;

// runc's CPUSet stats are cgroup v1's; on v2 it reports them as zeros.
const CPUSET_ZEROS: Readonly<Record<string, bigint>> = Object.fromEntries(CPUSET_FLAGS.map((key) => [key, 0n]));

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
