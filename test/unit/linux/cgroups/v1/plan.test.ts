import { describe, expect, it } from 'vitest';
import type { LinuxResources } from '../../../../../src/config/types.js';
import { appliesKernelMemoryLimits, planV1Resources, requestedFields, type Targets } from '../../../../../src/linux/cgroups/v1/resources/plan.js';

/** Every v1 controller in its own hierarchy, named after it, and no cgroup2 tree, on a kernel after 6.1. */
const ALL_V1 = ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'hugetlb', 'net_cls', 'net_prio', 'rdma'];
const legacy = (controllers: readonly string[] = ALL_V1): Targets => ({ v1: new Map(controllers.map((c) => [c, c])), unified: undefined, kernelMemoryLimits: false });
const hybrid = (v1: readonly string[], unified: readonly string[]): Targets => ({
  v1: new Map(v1.map((c) => [c, c])),
  unified: { mountPoint: '/sys/fs/cgroup/unified', controllers: () => new Set(unified) },
  kernelMemoryLimits: false,
});
/** This machine's controllers. */
const THIS_HOST = hybrid(['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids'], ['hugetlb']);

function plan(resources: LinuxResources, targets: Targets = legacy()) {
  const p = planV1Resources(resources, targets);
  return { ...p, lines: p.writes.map((w) => [w.hierarchy, w.write.file, w.write.value, w.write.field]) };
}
const writes = (resources: LinuxResources, targets?: Targets) => plan(resources, targets).lines;
const problems = (resources: LinuxResources, targets?: Targets) => plan(resources, targets).problems;

describe('memory', () => {
  it('writes memory+swap around the limit, so that lowering and raising both pass the kernel\'s limit <= memory+swap check', () => {
    const p = plan({ memory: { limit: 33554432, swap: 67108864, reservation: 16777216 } });
    expect(p.lines).toEqual([
      ['memory', 'memory.memsw.limit_in_bytes', '67108864', 'linux.resources.memory.swap'],
      ['memory', 'memory.limit_in_bytes', '33554432', 'linux.resources.memory.limit'],
      ['memory', 'memory.memsw.limit_in_bytes', '67108864', 'linux.resources.memory.swap'],
      ['memory', 'memory.soft_limit_in_bytes', '16777216', 'linux.resources.memory.reservation'],
    ]);
    // Only the first try may meet "too early".
    expect(p.writes.map((w) => w.write.tolerate)).toEqual([['EINVAL'], undefined, [], undefined]);
  });

  it('writes the limit alone, and with -1 lifts memory+swap first where swap is accounted (as runc)', () => {
    expect(writes({ memory: { limit: 1000000 } })).toEqual([['memory', 'memory.limit_in_bytes', '1000000', 'linux.resources.memory.limit']]);
    const p = plan({ memory: { limit: -1 } });
    // An old memory+swap limit below "unlimited" would make the kernel refuse the limit.
    expect(p.lines).toEqual([
      ['memory', 'memory.memsw.limit_in_bytes', '-1', 'linux.resources.memory.limit'],
      ['memory', 'memory.limit_in_bytes', '-1', 'linux.resources.memory.limit'],
    ]);
    expect(p.writes[0]?.write.tolerate).toEqual(['ENOENT']);
    expect(requestedFields(p.writes)).toEqual([]);
  });

  it('writes memory+swap alone without the retry, and takes 0 for "not set"', () => {
    expect(plan({ memory: { swap: 5000000 } }).writes.map((w) => [w.write.file, w.write.tolerate])).toEqual([['memory.memsw.limit_in_bytes', []]]);
    expect(writes({ memory: { limit: 0, swap: 0, reservation: 0, kernelTCP: 0 } })).toEqual([]);
  });

  it('refuses memory+swap below the limit and sizes below -1, all at once', () => {
    expect(problems({ memory: { limit: 200, swap: 100 } })).toEqual([
      'linux.resources.memory.swap: memory+swap (100) is below linux.resources.memory.limit (200); it must be at least the limit (equal means no swap)',
    ]);
    expect(problems({ memory: { limit: -2, reservation: -3 }, cpu: { shares: 1 } })).toEqual([
      'linux.resources.memory.limit: -2 is not a size; give bytes, or -1 for no limit',
      'linux.resources.memory.reservation: -3 is not a size; give bytes, or -1 for no limit',
      'linux.resources.cpu.shares: 1 is outside the kernel\'s range 2..262144',
    ]);
  });

  it('writes the kernel limit where the kernel applies it (before 6.1), and kernelTCP', () => {
    const p = plan({ memory: { kernel: 1 << 20, kernelTCP: 1 << 21 } }, { ...legacy(), kernelMemoryLimits: true });
    expect(p.lines).toEqual([
      ['memory', 'memory.kmem.limit_in_bytes', '1048576', 'linux.resources.memory.kernel'],
      ['memory', 'memory.kmem.tcp.limit_in_bytes', '2097152', 'linux.resources.memory.kernelTCP'],
    ]);
    expect(p.ignored).toEqual([]);
    expect(plan({ memory: { kernel: -2 } }, { ...legacy(), kernelMemoryLimits: true }).problems).toEqual([
      'linux.resources.memory.kernel: -2 is not a size; give bytes, or -1 for no limit',
    ]);
  });

  it('leaves the kernel limit aside with a warning where the kernel ignores it (6.1 and later), and writes kernelTCP', () => {
    const p = plan({ memory: { kernel: 1 << 20, kernelTCP: 1 << 21 } });
    expect(p.lines).toEqual([['memory', 'memory.kmem.tcp.limit_in_bytes', '2097152', 'linux.resources.memory.kernelTCP']]);
    expect(p.ignored).toEqual([expect.stringMatching(/^linux\.resources\.memory\.kernel: ignored: this kernel takes memory\.kmem\.limit_in_bytes without applying it/)]);
    expect(plan({ memory: { kernel: -1 } }).ignored).toEqual([]);
  });

  it('knows which kernels apply memory.kmem.limit_in_bytes from their release', () => {
    expect(['4.15.0-213-generic', '5.15.0-25-generic', '6.0.19'].map(appliesKernelMemoryLimits)).toEqual([true, true, true]);
    expect(['6.1.0-57-amd64', '6.18.44-fc-v1147', '7.0'].map(appliesKernelMemoryLimits)).toEqual([false, false, false]);
  });

  it('writes swappiness, disableOOMKiller and useHierarchy to their v1 files', () => {
    expect(writes({ memory: { swappiness: 0, disableOOMKiller: true, useHierarchy: false } })).toEqual([
      ['memory', 'memory.swappiness', '0', 'linux.resources.memory.swappiness'],
      ['memory', 'memory.oom_control', '1', 'linux.resources.memory.disableOOMKiller'],
      ['memory', 'memory.use_hierarchy', '0', 'linux.resources.memory.useHierarchy'],
    ]);
    expect(writes({ memory: { swappiness: -1, disableOOMKiller: false } })).toEqual([]);
    expect(problems({ memory: { swappiness: 101 } })).toEqual(['linux.resources.memory.swappiness: 101 is outside 0..100']);
  });
});

describe('cpu', () => {
  it('writes the period and the burst around the quota, as runc does', () => {
    const p = plan({ cpu: { shares: 512, quota: 50000, period: 100000, burst: 10000 } });
    expect(p.lines.map((l) => [l[1], l[2]])).toEqual([
      ['cpu.shares', '512'],
      ['cpu.cfs_period_us', '100000'],
      ['cpu.cfs_burst_us', '10000'],
      ['cpu.cfs_quota_us', '50000'],
      ['cpu.cfs_period_us', '100000'],
      ['cpu.cfs_burst_us', '10000'],
    ]);
    expect(p.writes.map((w) => w.write.tolerate)).toEqual([undefined, ['EINVAL'], ['EINVAL'], undefined, [], []]);
  });

  it('writes a lone period or quota once; -1 is "no quota"', () => {
    expect(writes({ cpu: { period: 20000 } })).toEqual([['cpu', 'cpu.cfs_period_us', '20000', 'linux.resources.cpu.period']]);
    expect(writes({ cpu: { quota: -1 } })).toEqual([['cpu', 'cpu.cfs_quota_us', '-1', 'linux.resources.cpu.quota']]);
  });

  it('refuses a burst above the quota', () => {
    expect(problems({ cpu: { quota: 1000, burst: 2000 } })).toEqual([
      'linux.resources.cpu.burst: 2000 is larger than linux.resources.cpu.quota (1000); the runtime-spec requires burst <= quota',
    ]);
  });

  it('writes the real-time period around the runtime', () => {
    expect(writes({ cpu: { realtimeRuntime: 950000, realtimePeriod: 1000000 } }).map((l) => [l[1], l[2]])).toEqual([
      ['cpu.rt_period_us', '1000000'],
      ['cpu.rt_runtime_us', '950000'],
      ['cpu.rt_period_us', '1000000'],
    ]);
  });

  it('writes idle first; shares then may meet the kernel\'s refusal of weights in an idle group', () => {
    const p = plan({ cpu: { idle: 1, shares: 100 } });
    expect(p.lines.map((l) => l[1])).toEqual(['cpu.idle', 'cpu.shares']);
    expect(p.writes[1]?.write.tolerate).toEqual(['EINVAL']);
  });

  it('counts cpu.shares 1024 as the kernel default, dropped where no hierarchy carries cpu', () => {
    expect(requestedFields(plan({ cpu: { shares: 1024 } }).writes)).toEqual([]);
    const noCpu = plan({ cpu: { shares: 1024 } }, legacy(['memory']));
    expect([noCpu.lines, noCpu.problems]).toEqual([[], []]);
    expect(problems({ cpu: { shares: 512 } }, legacy(['memory']))[0]).toBe(
      'linux.resources.cpu.shares needs the cgroup v1 cpu controller, which no hierarchy on this host carries (mounted: memory); remove the field, or mount the controller (mount -t cgroup -o cpu cgroup /sys/fs/cgroup/cpu)',
    );
  });
});

describe('cpuset and pids', () => {
  it('writes cpus and mems as given into the cpuset hierarchy, which may be another than cpu\'s', () => {
    expect(writes({ cpu: { cpus: '0-1', mems: '0', shares: 2 } })).toEqual([
      ['cpuset', 'cpuset.cpus', '0-1', 'linux.resources.cpu.cpus'],
      ['cpuset', 'cpuset.mems', '0', 'linux.resources.cpu.mems'],
      ['cpu', 'cpu.shares', '2', 'linux.resources.cpu.shares'],
    ]);
    expect(writes({ cpu: { cpus: '', mems: '' } })).toEqual([]);
  });

  it('writes pids.max: -1 is "max", 0 writes nothing (no limit, as runc 1.1 and podman mean it), a positive limit as is', () => {
    expect(writes({ pids: { limit: -1 } })).toEqual([['pids', 'pids.max', 'max', 'linux.resources.pids.limit']]);
    expect(writes({ pids: { limit: 0 } })).toEqual([]);
    expect(writes({ pids: { limit: 32 } })).toEqual([['pids', 'pids.max', '32', 'linux.resources.pids.limit']]);
    expect(requestedFields(plan({ pids: { limit: -1 } }).writes)).toEqual([]);
  });
});

describe('blkio', () => {
  it('writes CFQ\'s weights with BFQ\'s files as the fallback, leaf weights and one throttle per write', () => {
    const p = plan({
      blockIO: {
        weight: 500,
        leafWeight: 300,
        weightDevice: [{ major: 8, minor: 0, weight: 200, leafWeight: 100 }],
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 100 }],
      },
    });
    expect(p.lines.map((l) => [l[1], l[2], l[3]])).toEqual([
      ['blkio.weight', '500', 'linux.resources.blockIO.weight'],
      ['blkio.leaf_weight', '300', 'linux.resources.blockIO.leafWeight'],
      ['blkio.weight_device', '8:0 200', 'linux.resources.blockIO.weightDevice[0].weight'],
      ['blkio.leaf_weight_device', '8:0 100', 'linux.resources.blockIO.weightDevice[0].leafWeight'],
      ['blkio.throttle.read_bps_device', '8:0 1048576', 'linux.resources.blockIO.throttleReadBpsDevice[0]'],
      ['blkio.throttle.write_iops_device', '8:16 100', 'linux.resources.blockIO.throttleWriteIOPSDevice[0]'],
    ]);
    expect(p.writes[0]?.write.fallback?.file).toBe('blkio.bfq.weight');
    expect(p.writes[2]?.write.fallback).toMatchObject({ file: 'blkio.bfq.weight_device', value: '8:0 200' });
  });

  it('refuses weights outside 10..1000', () => {
    expect(problems({ blockIO: { weight: 5, weightDevice: [{ major: 8, minor: 0, weight: 2000 }] } })).toEqual([
      "linux.resources.blockIO.weight: 5 is outside blkio's weight range 10..1000",
      "linux.resources.blockIO.weightDevice[0].weight: 2000 is outside blkio's weight range 10..1000",
    ]);
  });
});

describe('hugetlb, network and rdma', () => {
  it('writes v1 hugetlb files, and reservations where the kernel has them', () => {
    const p = plan({ hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }] });
    expect(p.lines).toEqual([
      ['hugetlb', 'hugetlb.2MB.limit_in_bytes', '4194304', 'linux.resources.hugepageLimits[0]'],
      ['hugetlb', 'hugetlb.2MB.rsvd.limit_in_bytes', '4194304', 'linux.resources.hugepageLimits[0]'],
    ]);
    expect(p.writes[1]?.write.tolerate).toEqual(['ENOENT']);
  });

  it('writes huge page limits into a hybrid host\'s cgroup2 tree, with v2 names, when only that tree has hugetlb', () => {
    expect(writes({ hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }] }, THIS_HOST)).toEqual([
      ['', 'hugetlb.2MB.max', '4194304', 'linux.resources.hugepageLimits[0]'],
      ['', 'hugetlb.2MB.rsvd.max', '4194304', 'linux.resources.hugepageLimits[0]'],
    ]);
  });

  it('writes net_cls.classid, one net_prio.ifpriomap pair per write, and rdma.max', () => {
    expect(
      writes({ network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 5 }, { name: 'lo', priority: 1 }] }, rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 } } }),
    ).toEqual([
      ['net_cls', 'net_cls.classid', '1048577', 'linux.resources.network.classID'],
      ['net_prio', 'net_prio.ifpriomap', 'eth0 5', 'linux.resources.network.priorities[0]'],
      ['net_prio', 'net_prio.ifpriomap', 'lo 1', 'linux.resources.network.priorities[1]'],
      ['rdma', 'rdma.max', 'mlx5_1 hca_handle=3 hca_object=10000', 'linux.resources.rdma.mlx5_1'],
    ]);
  });

  it('refuses what this host carries nowhere, naming the fields, every problem at once', () => {
    expect(problems({ network: { classID: 1 }, rdma: { mlx5_1: { hcaHandles: 3 } }, pids: { limit: 10 } }, THIS_HOST)).toEqual([
      'linux.resources.network.classID needs the cgroup v1 net_cls controller, which no hierarchy on this host carries (mounted: blkio, cpu, cpuacct, cpuset, devices, freezer, memory, pids); remove the field, or mount the controller (mount -t cgroup -o net_cls cgroup /sys/fs/cgroup/net_cls)',
      "linux.resources.rdma.mlx5_1 needs the cgroup v1 rdma controller, which no hierarchy on this host carries (mounted: blkio, cpu, cpuacct, cpuset, devices, freezer, memory, pids), nor has this host's cgroup2 tree at /sys/fs/cgroup/unified the rdma controller (it has: hugetlb); remove the field, or mount the controller (mount -t cgroup -o rdma cgroup /sys/fs/cgroup/rdma)",
    ]);
  });

  it('plans a controller found only in cgroup2 with the v2 planner, which refuses what v2 cannot do', () => {
    const onlyV2Memory = hybrid(['cpu'], ['memory']);
    expect(writes({ memory: { limit: 1000 } }, onlyV2Memory)).toEqual([['', 'memory.max', '1000', 'linux.resources.memory.limit']]);
    expect(problems({ memory: { swappiness: 10 } }, onlyV2Memory)).toEqual([expect.stringMatching(/^linux\.resources\.memory\.swappiness: cgroup v2 has no per-cgroup swappiness/)]);
  });
});

describe('unified', () => {
  it('refuses unified keys on a v1-only host', () => {
    expect(problems({ unified: { 'memory.high': '1000' } })).toEqual([
      'linux.resources.unified["memory.high"]: this host has cgroup v1 alone, and unified keys name cgroup v2 files; set the matching cgroup v1 field of linux.resources instead',
    ]);
  });

  it('writes keys of the hybrid cgroup2 tree\'s controllers there, last, and refuses the others', () => {
    const p = plan({ pids: { limit: 5 }, unified: { 'hugetlb.2MB.max': '2097152', 'cgroup.max.depth': '3' } }, THIS_HOST);
    expect(p.lines).toEqual([
      ['pids', 'pids.max', '5', 'linux.resources.pids.limit'],
      ['', 'hugetlb.2MB.max', '2097152', 'linux.resources.unified["hugetlb.2MB.max"]'],
      ['', 'cgroup.max.depth', '3', 'linux.resources.unified["cgroup.max.depth"]'],
    ]);
    expect(problems({ unified: { 'io.max': '8:0 rbps=1\n8:16 rbps=2', 'cgroup.procs': '1', 'rdma.max': 'x' } }, THIS_HOST)).toEqual([
      expect.stringMatching(/^linux\.resources\.unified\["cgroup\.procs"\]: cgroup\.procs is managed by the runtime/),
      'linux.resources.unified["io.max"]: the io controller is not in this hybrid host\'s cgroup2 tree at /sys/fs/cgroup/unified (it has: hugetlb); the cgroup v1 blkio hierarchy carries it: set the matching field of linux.resources instead (tsrun writes it there)',
      'linux.resources.unified["rdma.max"]: the rdma controller is not in this hybrid host\'s cgroup2 tree at /sys/fs/cgroup/unified (it has: hugetlb); remove the key',
    ]);
  });
});
