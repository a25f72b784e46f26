import { describe, expect, it } from 'vitest';
import { hugePageSizeName, UNLIMITED } from '../../../../../src/linux/cgroups/cgroup-stats.js';
import { readCgroupStats } from '../../../../../src/linux/cgroups/v2/stats.js';
import { eventLine } from '../../../../../src/runtime/commands/events.js';
import { RecordingKernel } from '../../../fakes/recording-kernel.js';

const DIR = '/sys/fs/cgroup/c1';
const at = (files: Record<string, string>) => new RecordingKernel(Object.fromEntries(Object.entries(files).map(([name, text]) => [`${DIR}/${name}`, text])));

const PSI_IDLE = 'some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n';

describe('readCgroupStats', () => {
  it('reads a cgroup with every controller as runc reports it', () => {
    const stats = readCgroupStats(
      at({
        'cpu.stat': 'usage_usec 2000\nuser_usec 1500\nsystem_usec 500\nnr_periods 10\nnr_throttled 3\nthrottled_usec 700\n',
        'cpu.pressure': 'some avg10=1.50 avg60=0.25 avg300=0.00 total=123456\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n',
        'memory.stat': 'anon 4096\nfile 8192\n',
        'memory.current': '12288\n',
        'memory.max': '1073741824\n',
        'memory.peak': '20000\n',
        'memory.swap.current': '100\n',
        'memory.swap.max': 'max\n',
        'memory.pressure': PSI_IDLE,
        'pids.current': '3\n',
        'pids.max': '64\n',
        'io.stat': '8:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n',
        'hugetlb.2MB.current': '0\n',
        'hugetlb.2MB.rsvd.current': '2097152\n',
        'hugetlb.2MB.events': 'max 2\n',
      }),
      DIR,
      ['2MB'],
    );
    expect(stats).toEqual({
      cpu: {
        usage: { total: 2_000_000n, kernel: 500_000n, user: 1_500_000n },
        throttling: { periods: 10n, throttledPeriods: 3n, throttledTime: 700_000n },
        psi: { some: { avg10: 1.5, avg60: 0.25, avg300: 0, total: 123456n } },
      },
      cpuset: expect.objectContaining({ cpu_exclusive: 0n, sched_relax_domain_level: 0n }),
      memory: {
        cache: 8192n,
        usage: { limit: 1073741824n, usage: 12288n, max: 20000n, failcnt: 0n },
        swap: { limit: UNLIMITED, usage: 12388n, failcnt: 0n },
        raw: { anon: 4096n, file: 8192n },
        psi: {},
      },
      pids: { current: 3n, limit: 64n },
      blkio: {
        ioServiceBytesRecursive: [
          { major: 8n, op: 'Read', value: 4096n },
          { major: 8n, op: 'Write' },
        ],
        ioServicedRecursive: [
          { major: 8n, op: 'Read', value: 1n },
          { major: 8n, op: 'Write' },
        ],
      },
      hugetlb: { '2MB': { usage: 2097152n, failcnt: 2n } },
      intel_rdt: {},
      network_interfaces: null,
    });
  });

  it('reads a cgroup of this hybrid host (no memory, pids, io controllers) as runc would: counts procs, leaves out the rest', () => {
    const stats = readCgroupStats(
      at({ 'cpu.stat': 'usage_usec 7\nuser_usec 0\nsystem_usec 7\n', 'cgroup.procs': '10\n11\n', 'memory.pressure': PSI_IDLE }),
      DIR,
      ['2MB', '1GB'],
    );
    expect(stats.cpu).toEqual({ usage: { total: 7000n, kernel: 7000n, user: 0n } });
    expect(stats.memory).toEqual({ psi: {} });
    expect(stats.pids).toEqual({ current: 2n });
    expect(stats.blkio).toEqual({});
    expect(stats.hugetlb).toEqual({});
  });

  it('reports an unlimited pids.max as no limit (0, left out)', () => {
    expect(readCgroupStats(at({ 'pids.current': '1', 'pids.max': 'max' }), DIR, []).pids).toEqual({ current: 1n });
  });
});

describe('hugePageSizeName', () => {
  it.each([
    ['hugepages-2048kB', '2MB'],
    ['hugepages-1048576kB', '1GB'],
    ['hugepages-64kB', '64KB'],
    ['hugepages-32768kB', '32MB'],
    ['hugepages-16777216kB', '16GB'],
    ['nr_hugepages', undefined],
  ])('%s → %s', (directory, name) => {
    expect(hugePageSizeName(directory)).toBe(name);
  });
});

describe('eventLine', () => {
  it('prints runc\'s event JSON on one line, counters exact beyond 2^53', () => {
    expect(eventLine({ type: 'oom', id: 'c1' })).toBe('{"type":"oom","id":"c1"}\n');
    expect(eventLine({ type: 'stats', id: 'c1', data: { memory: { usage: { limit: UNLIMITED, failcnt: 0n } }, network_interfaces: null } })).toBe(
      '{"type":"stats","id":"c1","data":{"memory":{"usage":{"limit":18446744073709551615,"failcnt":0}},"network_interfaces":null}}\n',
    );
  });
});
