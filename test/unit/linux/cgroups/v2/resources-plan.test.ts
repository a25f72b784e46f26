import { describe, expect, it } from 'vitest';
import { planResources, requestedFields } from '../../../../../src/linux/cgroups/v2/resources/plan-resources.js';

describe('pids', () => {
  it('a positive limit is written as it is', () => {
    expect(planResources({ pids: { limit: 100 } }).writes).toEqual([{ controller: 'pids', file: 'pids.max', value: '100', field: 'linux.resources.pids.limit' }]);
  });

  it.each([-1, -5])('limit %d → pids.max "max", which every new cgroup has', (limit) => {
    expect(planResources({ pids: { limit } }).writes).toEqual([
      { controller: 'pids', file: 'pids.max', value: 'max', field: 'linux.resources.pids.limit', kernelDefault: true },
    ]);
  });

  it('0 writes nothing, with a warning: no limit, as runc and the engines that send it mean it', () => {
    const plan = planResources({ pids: { limit: 0 } });
    expect(plan.writes).toEqual([]);
    expect(plan.ignored).toEqual([expect.stringContaining('linux.resources.pids.limit: 0 is taken as no limit')]);
  });
});

describe('hugepageLimits', () => {
  it('writes hugetlb.<size>.max and the same limit to .rsvd.max, which may be missing', () => {
    const writes = planResources({ hugepageLimits: [{ pageSize: '2MB', limit: 209715200 }, { pageSize: '1GB', limit: 0 }] }).writes;
    expect(writes.map((w) => [w.controller, w.file, w.value, w.field, w.tolerate])).toEqual([
      ['hugetlb', 'hugetlb.2MB.max', '209715200', 'linux.resources.hugepageLimits[0]', undefined],
      ['hugetlb', 'hugetlb.2MB.rsvd.max', '209715200', 'linux.resources.hugepageLimits[0]', ['ENOENT']],
      ['hugetlb', 'hugetlb.1GB.max', '0', 'linux.resources.hugepageLimits[1]', undefined],
      ['hugetlb', 'hugetlb.1GB.rsvd.max', '0', 'linux.resources.hugepageLimits[1]', ['ENOENT']],
    ]);
  });
});

describe('rdma', () => {
  it('writes one rdma.max line per device, naming only the limits given', () => {
    const writes = planResources({ rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 }, mlx4_0: { hcaObjects: 1000 }, rxe3: { hcaHandles: 2 } } }).writes;
    expect(writes.map((w) => [w.file, w.value, w.field])).toEqual([
      ['rdma.max', 'mlx5_1 hca_handle=3 hca_object=10000', 'linux.resources.rdma.mlx5_1'],
      ['rdma.max', 'mlx4_0 hca_object=1000', 'linux.resources.rdma.mlx4_0'],
      ['rdma.max', 'rxe3 hca_handle=2', 'linux.resources.rdma.rxe3'],
    ]);
  });
});

describe('network', () => {
  it('refuses net_cls and net_prio settings, which cgroup v2 does not have', () => {
    expect(() => planResources({ network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 500 }] } })).toThrow(
      'linux.resources.network.classID: cgroup v2 has no net_cls controller; remove the field (match the cgroup path in nftables instead)\n' +
        'linux.resources.network.priorities: cgroup v2 has no net_prio controller; remove the field',
    );
    expect(planResources({ network: { priorities: [] } }).writes).toEqual([]);
  });
});

describe('planResources', () => {
  it('plans nothing for no resources, empty objects, or device rules alone (a BPF program, not files)', () => {
    expect(planResources(undefined)).toEqual({ writes: [], ignored: [] });
    expect(planResources({ devices: [{ allow: false, access: 'rwm' }], memory: {}, cpu: {}, hugepageLimits: [], unified: {}, blockIO: { weightDevice: [] } })).toEqual({
      writes: [],
      ignored: [],
    });
  });

  it('orders the writes as runc does (pids, memory, io, cpu, cpuset, hugetlb, rdma), unified last so it wins', () => {
    const plan = planResources({
      unified: { 'memory.high': '1G' },
      rdma: { mlx5_1: { hcaHandles: 1 } },
      hugepageLimits: [{ pageSize: '2MB', limit: 1 }],
      cpu: { cpus: '0', shares: 512 },
      blockIO: { weight: 100 },
      memory: { limit: 1 << 30 },
      pids: { limit: 10 },
    });
    expect(plan.writes.map((w) => w.file)).toEqual([
      'pids.max',
      'memory.max',
      'io.bfq.weight',
      'cpu.weight',
      'cpuset.cpus',
      'hugetlb.2MB.max',
      'hugetlb.2MB.rsvd.max',
      'rdma.max',
      'memory.high',
    ]);
  });

  it('reports every field cgroup v2 cannot honour at once, one line each', () => {
    expect(() =>
      planResources({
        memory: { swappiness: 10 },
        cpu: { realtimeRuntime: 1 },
        blockIO: { leafWeight: 10 },
        unified: { 'cgroup.procs': '1' },
      }),
    ).toThrow(
      new Error(
        [
          'linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness; remove the field (limit swap with linux.resources.memory.swap instead)',
          'linux.resources.blockIO.leafWeight: cgroup v2 has no leaf weights (they belonged to cgroup v1\'s CFQ scheduler); remove the field',
          'linux.resources.cpu.realtimeRuntime: cgroup v2 has no real-time CPU bandwidth control; remove the field',
          'linux.resources.unified["cgroup.procs"]: cgroup.procs is managed by the runtime (processes, child controllers, freezing, killing); setting it would break the container\'s lifecycle',
        ].join('\n'),
      ),
    );
  });

  it('requestedFields: the fields that need a cgroup, kernel defaults aside', () => {
    const plan = planResources({ cpu: { shares: 1024 }, memory: { limit: 100, swap: 200 }, hugepageLimits: [{ pageSize: '2MB', limit: 1 }] });
    expect(requestedFields(plan.writes)).toEqual(['linux.resources.memory.swap', 'linux.resources.memory.limit', 'linux.resources.hugepageLimits[0]']);
    expect(requestedFields(planResources({ cpu: { shares: 1024 } }).writes)).toEqual([]);
  });
});
