import { describe, expect, it } from 'vitest';
import { blkioEntries, cpuList, readV1Stats } from '../../../../../src/linux/cgroups/v1/stats.js';
import { RecordingKernel } from '../../../fakes/recording-kernel.js';

const dirs: Record<string, string> = {
  cpu: '/cg/cpu/c1',
  cpuacct: '/cg/cpuacct/c1',
  cpuset: '/cg/cpuset/c1',
  memory: '/cg/memory/c1',
  pids: '/cg/pids/c1',
  blkio: '/cg/blkio/c1',
  hugetlb: '/cg/hugetlb/c1',
};
const files = (controller: string, entries: Record<string, string>) =>
  Object.fromEntries(Object.entries(entries).map(([name, text]) => [`${dirs[controller]}/${name}`, text]));

const host = new RecordingKernel({
  ...files('cpuacct', {
    'cpuacct.usage': '123456789\n',
    'cpuacct.usage_percpu': '100000000 23456789 \n',
    'cpuacct.usage_all': 'cpu user system\n0 90000000 10000000\n1 20000000 3456789\n',
    'cpuacct.stat': 'user 7\nsystem 3\n',
  }),
  ...files('cpu', { 'cpu.stat': 'nr_periods 10\nnr_throttled 2\nthrottled_time 5000\nnr_bursts 0\nburst_time 0\n' }),
  ...files('cpuset', {
    'cpuset.cpus': '0-1,3\n',
    'cpuset.mems': '0\n',
    'cpuset.cpu_exclusive': '0\n',
    'cpuset.mem_hardwall': '0\n',
    'cpuset.sched_load_balance': '1\n',
    'cpuset.sched_relax_domain_level': '-1\n',
  }),
  ...files('memory', {
    'memory.stat': 'cache 4096\nrss 8192\n',
    'memory.usage_in_bytes': '12288\n',
    'memory.limit_in_bytes': '33554432\n',
    'memory.max_usage_in_bytes': '20000\n',
    'memory.failcnt': '3\n',
    'memory.memsw.usage_in_bytes': '12288\n',
    'memory.memsw.limit_in_bytes': '33554432\n',
    'memory.memsw.max_usage_in_bytes': '20000\n',
    'memory.memsw.failcnt': '0\n',
  }),
  ...files('pids', { 'pids.current': '4\n', 'pids.max': 'max\n' }),
  ...files('blkio', {
    'blkio.bfq.io_serviced_recursive': 'Total 0\n',
    'blkio.throttle.io_serviced_recursive': '8:0 Read 5\n8:0 Write 7\nTotal 12\n',
    'blkio.throttle.io_service_bytes_recursive': '8:0 Read 20480\n8:0 Write 0\nTotal 20480\n',
  }),
  ...files('hugetlb', {
    'hugetlb.2MB.usage_in_bytes': '2097152\n',
    'hugetlb.2MB.max_usage_in_bytes': '4194304\n',
    'hugetlb.2MB.failcnt': '1\n',
  }),
});

describe('readV1Stats', () => {
  const stats = readV1Stats(host, { v1: (c) => dirs[c], unifiedHugetlb: undefined }, ['2MB', '1GB']);

  it('reads CPU usage from cpuacct (ticks of 10 ms as ns) and throttling from cpu, which may be separate hierarchies', () => {
    expect(stats.cpu).toEqual({
      usage: {
        total: 123456789n,
        percpu: [100000000n, 23456789n],
        percpu_kernel: [10000000n, 3456789n],
        percpu_user: [90000000n, 20000000n],
        kernel: 30000000n,
        user: 70000000n,
      },
      throttling: { periods: 10n, throttledPeriods: 2n, throttledTime: 5000n },
    });
  });

  it('reads the cpuset\'s lists and counters in runc\'s shape', () => {
    expect(stats.cpuset).toEqual({
      cpus: [0, 1, 3],
      cpu_exclusive: 0n,
      mems: [0],
      mem_hardwall: 0n,
      mem_exclusive: 0n,
      memory_migrate: 0n,
      memory_spread_page: 0n,
      memory_spread_slab: 0n,
      memory_pressure: 0n,
      sched_load_balance: 1n,
      sched_relax_domain_level: -1n,
    });
  });

  it('reads memory, memory+swap and memory.stat; counters a kernel lacks (kmem here) are left out', () => {
    expect(stats.memory).toEqual({
      cache: 4096n,
      usage: { limit: 33554432n, usage: 12288n, max: 20000n, failcnt: 3n },
      swap: { limit: 33554432n, usage: 12288n, max: 20000n, failcnt: 0n },
      raw: { cache: 4096n, rss: 8192n },
    });
  });

  it('reports "no pids limit" as 0, left out as runc does', () => {
    expect(stats.pids).toEqual({ current: 4n });
  });

  it('takes the first blkio table that has entries (an empty BFQ one is skipped)', () => {
    expect(stats.blkio).toEqual({
      ioServiceBytesRecursive: [
        { major: 8n, op: 'Read', value: 20480n },
        { major: 8n, op: 'Write' },
      ],
      ioServicedRecursive: [
        { major: 8n, op: 'Read', value: 5n },
        { major: 8n, op: 'Write', value: 7n },
      ],
    });
  });

  it('reads huge page usage per size, stopping at a size the cgroup does not know', () => {
    expect(stats.hugetlb).toEqual({ '2MB': { usage: 2097152n, max: 4194304n, failcnt: 1n } });
  });

  it('reads nothing for controllers without a hierarchy, and huge pages from a hybrid host\'s cgroup2 directory', () => {
    const kernel = new RecordingKernel({ '/u/c1/hugetlb.2MB.current': '0\n', '/u/c1/hugetlb.2MB.events': 'max 2\n' });
    expect(readV1Stats(kernel, { v1: () => undefined, unifiedHugetlb: '/u/c1' }, ['2MB'])).toEqual({
      cpu: {},
      cpuset: { cpu_exclusive: 0n, mem_hardwall: 0n, mem_exclusive: 0n, memory_migrate: 0n, memory_spread_page: 0n, memory_spread_slab: 0n, memory_pressure: 0n, sched_load_balance: 0n, sched_relax_domain_level: 0n },
      memory: {},
      pids: {},
      blkio: {},
      hugetlb: { '2MB': { failcnt: 2n } },
      intel_rdt: {},
      network_interfaces: null,
    });
  });
});

describe('parsers', () => {
  it('expands the kernel\'s list format', () => {
    expect(cpuList('0-2,5,7-8\n')).toEqual([0, 1, 2, 5, 7, 8]);
    expect(cpuList('\n')).toEqual([]);
  });

  it('reads blkio lines with and without an operation', () => {
    expect(blkioEntries('8:16 Sync 3\n253:0 6792\nTotal 9\n')).toEqual([
      { major: 8n, minor: 16n, op: 'Sync', value: 3n },
      { major: 253n, value: 6792n },
    ]);
  });
});
