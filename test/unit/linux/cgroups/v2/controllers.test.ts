import { describe, expect, it } from 'vitest';
import { ancestorsOf, availableWrites, enableControllers } from '../../../../../src/linux/cgroups/v2/resources/controllers.js';
import { planResources } from '../../../../../src/linux/cgroups/v2/resources/plan-resources.js';
import { parseMountInfo } from '../../../../../src/linux/mountinfo.js';
import { RecordingKernel } from '../../../fakes/recording-kernel.js';

const UNIFIED = '/sys/fs/cgroup/unified';
/** This machine's kind of host: v1 hierarchies hold the controllers, cgroup2 has hugetlb only. */
const HYBRID_MOUNTS = parseMountInfo(
  [
    '35 30 0:30 / /sys/fs/cgroup/memory rw,nosuid shared:10 - cgroup cgroup rw,memory',
    '36 30 0:31 / /sys/fs/cgroup/cpu rw,nosuid shared:11 - cgroup cgroup rw,cpu',
    '37 30 0:32 / /sys/fs/cgroup/blkio rw,nosuid shared:12 - cgroup cgroup rw,blkio',
    '41 30 0:38 / /sys/fs/cgroup/unified rw,nosuid shared:9 - cgroup2 cgroup2 rw',
  ].join('\n'),
);
const PURE_MOUNTS = parseMountInfo('31 30 0:27 / /sys/fs/cgroup rw,nosuid shared:8 - cgroup2 cgroup2 rw,nsdelegate\n');

describe('availableWrites', () => {
  it('refuses a limit whose controller the hybrid host keeps in cgroup v1, naming field, controller, the list and why', () => {
    const kernel = new RecordingKernel({ [`${UNIFIED}/cgroup.controllers`]: 'hugetlb\n' });
    expect(() => availableWrites(kernel, UNIFIED, planResources({ memory: { limit: 1 << 20 } }).writes, HYBRID_MOUNTS)).toThrow(
      new Error(
        'linux.resources.memory.limit needs the cgroup v2 memory controller, which is not available in /sys/fs/cgroup/unified (cgroup.controllers: hugetlb): ' +
          'on this hybrid host the cgroup v1 hierarchy at /sys/fs/cgroup/memory owns it, and tsrun manages cgroup v2 only; ' +
          'remove the field, or boot the host with cgroup v2 alone (systemd.unified_cgroup_hierarchy=1)',
      ),
    );
    expect(kernel.summary()).toEqual([`readFile ${UNIFIED}/cgroup.controllers`]);
  });

  it('lists every missing controller on its own line with all its fields; io is blkio in v1', () => {
    const kernel = new RecordingKernel({ [`${UNIFIED}/cgroup.controllers`]: 'hugetlb' });
    const writes = planResources({ memory: { limit: 100, swap: 200 }, blockIO: { weight: 100 }, hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }).writes;
    let message = '';
    try {
      availableWrites(kernel, UNIFIED, writes, HYBRID_MOUNTS);
    } catch (error) {
      message = (error as Error).message;
    }
    const lines = message.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^linux\.resources\.memory\.swap, linux\.resources\.memory\.limit need the cgroup v2 memory controller, .* at \/sys\/fs\/cgroup\/memory owns it/);
    expect(lines[1]).toMatch(/^linux\.resources\.blockIO\.weight needs the cgroup v2 io controller, .* at \/sys\/fs\/cgroup\/blkio owns it/);
  });

  it('says the kernel lacks a controller that no v1 hierarchy holds', () => {
    const kernel = new RecordingKernel({ '/sys/fs/cgroup/cgroup.controllers': 'cpuset cpu io memory pids' });
    expect(() => availableWrites(kernel, '/sys/fs/cgroup', planResources({ rdma: { mlx5_0: { hcaHandles: 1 } } }).writes, PURE_MOUNTS)).toThrow(
      'linux.resources.rdma.mlx5_0 needs the cgroup v2 rdma controller, which is not available in /sys/fs/cgroup (cgroup.controllers: cpuset cpu io memory pids): ' +
        'this kernel does not offer it (not built in, or turned off with cgroup_disable=); remove the field',
    );
  });

  it('refuses a unified key of a controller the host does not have', () => {
    const kernel = new RecordingKernel({ '/sys/fs/cgroup/cgroup.controllers': 'memory pids' });
    expect(() => availableWrites(kernel, '/sys/fs/cgroup', planResources({ unified: { 'foo.bar': '1' } }).writes, PURE_MOUNTS)).toThrow(
      /^linux\.resources\.unified\["foo\.bar"\] needs the cgroup v2 foo controller, which is not available in \/sys\/fs\/cgroup \(cgroup\.controllers: memory pids\)/,
    );
  });

  it('drops the kernel default cpu.shares 1024 when there is no cpu controller, keeps it when there is', () => {
    const writes = planResources({ cpu: { shares: 1024 }, hugepageLimits: [{ pageSize: '2MB', limit: 4 }] }).writes;
    const hybrid = new RecordingKernel({ [`${UNIFIED}/cgroup.controllers`]: 'hugetlb' });
    expect(availableWrites(hybrid, UNIFIED, writes, HYBRID_MOUNTS).map((w) => w.file)).toEqual(['hugetlb.2MB.max', 'hugetlb.2MB.rsvd.max']);
    const pure = new RecordingKernel({ '/sys/fs/cgroup/cgroup.controllers': 'cpu hugetlb' });
    expect(availableWrites(pure, '/sys/fs/cgroup', writes, PURE_MOUNTS).map((w) => w.file)).toEqual(['cpu.weight', 'hugetlb.2MB.max', 'hugetlb.2MB.rsvd.max']);
  });

  it('reads nothing when no write needs a controller', () => {
    const kernel = new RecordingKernel();
    expect(availableWrites(kernel, UNIFIED, planResources({ unified: { 'cgroup.max.depth': '3' } }).writes, HYBRID_MOUNTS)).toHaveLength(1);
    expect(availableWrites(kernel, UNIFIED, [], HYBRID_MOUNTS)).toEqual([]);
    expect(kernel.calls).toEqual([]);
  });
});

describe('enableControllers', () => {
  it('lists the root and every cgroup down to the parent, top down', () => {
    expect(ancestorsOf('/sys/fs/cgroup', '/sys/fs/cgroup/c1')).toEqual(['/sys/fs/cgroup']);
    expect(ancestorsOf('/sys/fs/cgroup', '/sys/fs/cgroup/a/b/c1')).toEqual(['/sys/fs/cgroup', '/sys/fs/cgroup/a', '/sys/fs/cgroup/a/b']);
  });

  it('writes "+<controller>" to each cgroup.subtree_control from the root down, one controller per write, only the needed ones', () => {
    const root = '/sys/fs/cgroup';
    const kernel = new RecordingKernel({
      [`${root}/cgroup.subtree_control`]: 'memory\n',
      [`${root}/tsrun/cgroup.subtree_control`]: '\n',
    });
    const writes = planResources({ pids: { limit: 10 }, memory: { limit: 100 }, unified: { 'cgroup.max.depth': '2' } }).writes;
    enableControllers(kernel, root, `${root}/tsrun/c1`, writes);
    expect(kernel.calls).toEqual([
      { op: 'readFile', path: `${root}/cgroup.subtree_control` },
      { op: 'writeFile', path: `${root}/cgroup.subtree_control`, data: '+pids', field: 'linux.resources.pids.limit' },
      { op: 'readFile', path: `${root}/tsrun/cgroup.subtree_control` },
      { op: 'writeFile', path: `${root}/tsrun/cgroup.subtree_control`, data: '+pids', field: 'linux.resources.pids.limit' },
      { op: 'writeFile', path: `${root}/tsrun/cgroup.subtree_control`, data: '+memory', field: 'linux.resources.memory.limit' },
    ]);
  });

  it('touches nothing when no write needs a controller', () => {
    const kernel = new RecordingKernel();
    enableControllers(kernel, '/sys/fs/cgroup', '/sys/fs/cgroup/c1', planResources({ unified: { 'cgroup.max.depth': '2' } }).writes);
    expect(kernel.calls).toEqual([]);
  });

  it('explains EBUSY: the parent holds processes, which cgroup v2 forbids for a cgroup that passes on controllers', () => {
    const root = '/sys/fs/cgroup';
    const kernel = new RecordingKernel({ [`${root}/cgroup.subtree_control`]: 'memory', [`${root}/busy/cgroup.subtree_control`]: '' }).failOn('writeFile', 'EBUSY');
    expect(() => enableControllers(kernel, root, `${root}/busy/c1`, planResources({ memory: { limit: 100 } }).writes)).toThrow(
      'write "+memory" to /sys/fs/cgroup/busy/cgroup.subtree_control (linux.resources.memory.limit): EBUSY (resource busy or locked): ' +
        '/sys/fs/cgroup/busy holds processes of its own, and cgroup v2 gives controllers only to the children of a cgroup without processes; ' +
        'choose a linux.cgroupsPath whose parents hold no processes',
    );
  });

  it('explains EACCES: delegation', () => {
    const kernel = new RecordingKernel({ '/sys/fs/cgroup/cgroup.subtree_control': '' }).failOn('writeFile', 'EACCES');
    expect(() => enableControllers(kernel, '/sys/fs/cgroup', '/sys/fs/cgroup/c1', planResources({ pids: { limit: 1 } }).writes)).toThrow(
      /^write "\+pids" to \/sys\/fs\/cgroup\/cgroup\.subtree_control \(linux\.resources\.pids\.limit\): EACCES \(permission denied\): tsrun may not change the controllers of \/sys\/fs\/cgroup; run as root, or delegate a cgroup that has the pids controller enabled$/,
    );
  });
});
