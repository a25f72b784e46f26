import { readdirSync } from 'node:fs';
import type { HostKernel } from '../../../ffi/host-kernel.js';

/** runc's CPUSet stats fields (types.CPUSet), in its order: v1 reads them, v2 reports them as zeros. */
export const CPUSET_FLAGS = [
  'cpu_exclusive',
  'mem_hardwall',
  'mem_exclusive',
  'memory_migrate',
  'memory_spread_page',
  'memory_spread_slab',
  'memory_pressure',
  'sched_load_balance',
  'sched_relax_domain_level',
] as const;

export type Reader = Pick<HostKernel, 'readFile'>;

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
 * reports it then: absent, or zero. Both drivers fill it: v2 from its
 * files (cpuset, intel_rdt and network interfaces keep runc's empty shapes
 * there), v1 from the v1 files, with the per-CPU and kernel memory fields
 * runc reports on v1.
 */
export interface CgroupStats {
  readonly cpu: {
    readonly usage?: {
      readonly total?: bigint;
      /** v1 only (cpuacct): per CPU, in ns. */
      readonly percpu?: readonly bigint[];
      readonly percpu_kernel?: readonly bigint[];
      readonly percpu_user?: readonly bigint[];
      readonly kernel: bigint;
      readonly user: bigint;
    };
    readonly throttling?: { readonly periods?: bigint; readonly throttledPeriods?: bigint; readonly throttledTime?: bigint };
    readonly psi?: Psi;
  };
  /** v1 reads cpus and mems as lists, and the cpuset flags; v2 reports runc's zeros. */
  readonly cpuset: { readonly cpus?: readonly number[]; readonly mems?: readonly number[] } & Readonly<Record<string, bigint | readonly number[] | undefined>>;
  readonly memory: {
    readonly cache?: bigint;
    readonly usage?: MemoryEntry;
    readonly swap?: MemoryEntry;
    /** v1 only: kernel and TCP buffer memory. */
    readonly kernel?: MemoryEntry;
    readonly kernelTCP?: MemoryEntry;
    readonly raw?: Readonly<Record<string, bigint>>;
    readonly psi?: Psi;
  };
  readonly pids: { readonly current?: bigint; readonly limit?: bigint };
  readonly blkio: { readonly ioServiceBytesRecursive?: BlkioEntry[]; readonly ioServicedRecursive?: BlkioEntry[]; readonly psi?: Psi };
  readonly hugetlb: Readonly<Record<string, { readonly usage?: bigint; readonly max?: bigint; readonly failcnt: bigint }>>;
  readonly intel_rdt: Readonly<Record<string, never>>;
  readonly network_interfaces: null;
}
/**
 * "hugepages-2048kB" (a directory of /sys/kernel/mm/hugepages) → "2MB": the
 * name the kernel gives the size in hugetlb.<size>.* files (whole GB, MB or
 * KB, the largest unit the size reaches).
 */
/** The spec's names ("2MB") of the huge page sizes this kernel has. */
export function hugePageSizes(): string[] {
  try {
    return readdirSync('/sys/kernel/mm/hugepages')
      .map(hugePageSizeName)
      .filter((name): name is string => name !== undefined);
  } catch {
    return [];
  }
}

export function hugePageSizeName(directory: string): string | undefined {
  const kb = /^hugepages-(\d+)kB$/.exec(directory)?.[1];
  if (kb === undefined) return undefined;
  const size = Number(kb);
  if (size >= 2 ** 20) return `${Math.floor(size / 2 ** 20)}GB`;
  if (size >= 2 ** 10) return `${Math.floor(size / 2 ** 10)}MB`;
  return `${size}KB`;
}

/** A single-value file: a number, or "max". Absent counts as 0. */
export function value(text: string | undefined): bigint {
  const trimmed = text?.trim() ?? '';
  if (trimmed === 'max') return UNLIMITED;
  return /^\d+$/.test(trimmed) ? BigInt(trimmed) : 0n;
}

/** A flat-keyed file: "key value" per line. */
export function keyed(text: string | undefined): Map<string, bigint> {
  const map = new Map<string, bigint>();
  for (const line of (text ?? '').split('\n')) {
    const [key, count] = line.trim().split(/\s+/);
    if (key !== undefined && count !== undefined && /^\d+$/.test(count)) map.set(key, BigInt(count));
  }
  return map;
}

export function nonZero<K extends string>(key: K, n: bigint | undefined): { [P in K]?: bigint } {
  return (n === undefined || n === 0n ? {} : { [key]: n }) as { [P in K]?: bigint };
}

export function allZero(object: object): boolean {
  return Object.values(object).every((v) => v === undefined || v === 0 || v === 0n);
}

export function readIfPresent(reader: Reader, path: string): string | undefined {
  try {
    return reader.readFile(path);
  } catch (error) {
    // No such file (controller not enabled, older kernel), or the cgroup went away meanwhile.
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENODEV' || code === 'EOPNOTSUPP') return undefined;
    throw error;
  }
}
