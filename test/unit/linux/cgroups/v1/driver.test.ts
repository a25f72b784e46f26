import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CgroupRequest } from '../../../../../src/linux/cgroups/manager.js';
import { fakeHost, FakeCgroupfs, LEGACY_HOST, THIS_HOST, type FakeHost } from './fake-host.js';

// processCgroups() reads /proc/self/cgroup: each test's host answers it.
const fake = vi.hoisted(() => ({ files: undefined as Record<string, string> | undefined }));
vi.mock('node:fs', async (importOriginal) => {
  const { withReadFileOverlay } = await import('../../../fakes/read-file-overlay.js');
  return withReadFileOverlay(await importOriginal<typeof import('node:fs')>(), () => fake.files);
});
const { v1Driver } = await import('../../../../../src/linux/cgroups/v1/driver.js');

afterEach(() => {
  fake.files = undefined;
});

function on(shape = THIS_HOST): FakeHost {
  const host = fakeHost(shape);
  fake.files = { '/proc/self/cgroup': host.procSelfCgroup, '/proc/self/mountinfo': host.mountinfo };
  return host;
}

const request = (more: Partial<CgroupRequest> = {}): CgroupRequest => ({ id: 'c1', cgroupsPath: undefined, resources: undefined, systemd: false, ...more });

describe('where the v1 driver puts a container', () => {
  it('gives it a directory in every hierarchy, named ones and the hybrid cgroup2 tree included, under tsrun\'s own cgroup in each', () => {
    const host = on();
    const kernel = new FakeCgroupfs(host);
    const cgroup = v1Driver.plan(kernel, request(), host.layout).create(42);
    expect(cgroup.placement).toEqual({
      version: 1,
      dirs: {
        cpu: join(host.mount('cpu'), 'c1'),
        cpuacct: join(host.mount('cpuacct'), 'c1'),
        cpuset: join(host.mount('cpuset'), 'c1'),
        memory: join(host.mount('memory'), 'process_api/abc/c1'),
        devices: join(host.mount('devices'), 'c1'),
        freezer: join(host.mount('freezer'), 'c1'),
        blkio: join(host.mount('blkio'), 'c1'),
        pids: join(host.mount('pids'), 'c1'),
        'name=systemd': join(host.mount('name=systemd'), 'c1'),
        '': join(host.mount(''), 'c1'),
      },
      createdParents: [],
    });
  });

  it('takes an absolute cgroupsPath from each root, a relative one from tsrun\'s own cgroup there', () => {
    const host = on();
    const dirs = (cgroupsPath: string) => v1Driver.plan(new FakeCgroupfs(host), request({ cgroupsPath }), host.layout).create(1).placement.dirs;
    expect(dirs('/tsrun/web')).toMatchObject({ memory: join(host.mount('memory'), 'tsrun/web'), pids: join(host.mount('pids'), 'tsrun/web') });
    expect(dirs('tsrun/web')).toMatchObject({ memory: join(host.mount('memory'), 'process_api/abc/tsrun/web'), pids: join(host.mount('pids'), 'tsrun/web') });
  });

  it('maps slice:prefix:name to systemd\'s path in every hierarchy', () => {
    const host = on();
    const dirs = v1Driver.plan(new FakeCgroupfs(host), request({ cgroupsPath: 'system.slice:docker:abc' }), host.layout).create(1).placement.dirs;
    expect(dirs['memory']).toBe(join(host.mount('memory'), 'system.slice/docker-abc.scope'));
    expect(dirs['name=systemd']).toBe(join(host.mount('name=systemd'), 'system.slice/docker-abc.scope'));
  });

  it('refuses a hierarchy\'s root and an ancestor of tsrun\'s own cgroup, before anything exists', () => {
    const host = on();
    const kernel = new FakeCgroupfs(host);
    expect(() => v1Driver.plan(kernel, request({ cgroupsPath: '/' }), host.layout)).toThrow(
      `linux.cgroupsPath: ${host.mount('cpu')} is the root of the cgroup v1 cpu hierarchy; give the container a cgroup of its own`,
    );
    expect(() => v1Driver.plan(kernel, request({ cgroupsPath: '/process_api' }), host.layout)).toThrow(
      `linux.cgroupsPath: ${join(host.mount('memory'), 'process_api')} is an ancestor of tsrun's own cgroup; give the container a cgroup of its own`,
    );
    expect(kernel.calls).toEqual([]);
  });

  it('names co-mounted hierarchies as /proc/<pid>/cgroup does, and writes a controller\'s files into its hierarchy', () => {
    const host = on(LEGACY_HOST);
    const kernel = new FakeCgroupfs(host);
    const planned = v1Driver.plan(kernel, request({ resources: { cpu: { shares: 512 }, network: { classID: 7 } } }), host.layout);
    const dirs = planned.create(1).placement.dirs;
    expect(Object.keys(dirs)).toEqual(['cpu,cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'hugetlb', 'net_cls,net_prio', 'rdma', 'name=systemd']);
    expect(dirs['name=systemd']).toBe(join(host.mount('name=systemd'), 'user.slice/session-1.scope/c1'));
    planned.applyLimits();
    expect(kernel.callsTo('writeFile').filter((c) => !c.path.includes('/devices')).map((c) => c.path)).toContain(join(host.mount('cpu,cpuacct'), 'c1/cpu.shares'));
    expect(kernel.files.get(join(host.mount('net_cls,net_prio'), 'c1/net_cls.classid'))).toBe('7');
  });
});

describe('create', () => {
  it('makes every directory and its missing parents, fills the new cpusets, then moves the process into each', () => {
    const host = on();
    const kernel = new FakeCgroupfs(host);
    const cgroup = v1Driver.plan(kernel, request({ cgroupsPath: 'a/c1' }), host.layout).create(42);
    const cpuset = host.mount('cpuset');
    const calls = kernel.summary();
    const mkdirs = calls.filter((c) => c.startsWith('mkdir'));
    expect(mkdirs).toHaveLength(20);
    expect(mkdirs.slice(4, 6)).toEqual([`mkdir ${cpuset}/a`, `mkdir ${cpuset}/a/c1`]);
    // Top down: the parent create made, then the container's own, each from its parent.
    expect(kernel.callsTo('writeFile').filter((c) => c.path.startsWith(cpuset) && !c.path.endsWith('cgroup.procs'))).toEqual([
      { op: 'writeFile', path: `${cpuset}/a/cpuset.cpus`, data: '0-1', field: `linux.cgroupsPath: cpuset.cpus copied from ${cpuset}` },
      { op: 'writeFile', path: `${cpuset}/a/cpuset.mems`, data: '0', field: `linux.cgroupsPath: cpuset.mems copied from ${cpuset}` },
      { op: 'writeFile', path: `${cpuset}/a/c1/cpuset.cpus`, data: '0-1', field: `linux.cgroupsPath: cpuset.cpus copied from ${cpuset}/a` },
      { op: 'writeFile', path: `${cpuset}/a/c1/cpuset.mems`, data: '0', field: `linux.cgroupsPath: cpuset.mems copied from ${cpuset}/a` },
    ]);
    const joins = kernel.callsTo('writeFile').filter((c) => c.path.endsWith('cgroup.procs'));
    expect(joins.map((c) => c.path)).toEqual(Object.values(cgroup.placement.dirs).map((d) => join(d, 'cgroup.procs')));
    expect(joins.every((c) => c.data === '42')).toBe(true);
    // Every join comes after every mkdir and cpuset write.
    const firstJoin = calls.findIndex((c) => c.endsWith('cgroup.procs'));
    expect(calls.slice(firstJoin).every((c) => c.endsWith('cgroup.procs'))).toBe(true);
    expect(cgroup.placement.createdParents).toHaveLength(10);
    expect(cgroup.placement.createdParents).toContain(join(host.mount('memory'), 'process_api/abc/a'));
    expect(cgroup.placement.createdParents).not.toContain(cgroup.placement.dirs['memory']);
  });

  it('records the parents it made deepest first across hierarchies', () => {
    const host = on();
    const placement = v1Driver.plan(new FakeCgroupfs(host), request({ cgroupsPath: 'x/y/c1' }), host.layout).create(1).placement;
    const depths = placement.createdParents.map((d) => d.split('/').length);
    expect(depths).toEqual([...depths].sort((a, b) => b - a));
    expect(placement.createdParents.indexOf(join(host.mount('pids'), 'x/y'))).toBeLessThan(placement.createdParents.indexOf(join(host.mount('pids'), 'x')));
  });

  it('writes the config\'s cpus and mems before the process joins, copies only what the config leaves out, and not again with the limits', () => {
    const host = on();
    const kernel = new FakeCgroupfs(host);
    const planned = v1Driver.plan(kernel, request({ resources: { cpu: { cpus: '1' } } }), host.layout);
    planned.create(42);
    const cpuset = join(host.mount('cpuset'), 'c1');
    const cpusetWrites = () => kernel.callsTo('writeFile').filter((c) => c.path.startsWith(`${cpuset}/`));
    expect(cpusetWrites().map((c) => [c.path.slice(cpuset.length + 1), c.data])).toEqual([
      ['cpuset.cpus', '1'],
      ['cpuset.mems', '0'],
      ['cgroup.procs', '42'],
    ]);
    planned.applyLimits();
    expect(cpusetWrites()).toHaveLength(3);
  });

  it('removes everything it made when a directory cannot be made', () => {
    const host = on();
    const pids = join(host.mount('pids'), 'a');
    const kernel = new FakeCgroupfs(host).failOn('mkdir', 'EACCES', { when: (c) => c.path === pids });
    expect(() => v1Driver.plan(kernel, request({ cgroupsPath: 'a/c1' }), host.layout).create(42)).toThrow(`mkdir ${pids}: EACCES`);
    const made = kernel.callsTo('mkdir').filter((c) => c.path !== pids).map((c) => c.path);
    expect(kernel.callsTo('rmdir').map((c) => c.path).sort()).toEqual(made.sort());
    expect(kernel.callsTo('writeFile').filter((c) => c.path.endsWith('cgroup.procs'))).toEqual([]);
  });

  it('moves the process back to tsrun\'s cgroups and removes everything when a join fails, saying why', () => {
    const host = on();
    const memory = join(host.mount('memory'), 'process_api/abc/c1/cgroup.procs');
    const kernel = new FakeCgroupfs(host).failOn('writeFile', 'ENOSPC', { when: (c) => c.path === memory });
    expect(() => v1Driver.plan(kernel, request(), host.layout).create(42)).toThrow(
      `write "42" to ${memory} (linux.cgroupsPath): ENOSPC (no space left on device): the cpuset cgroup has no CPUs or memory nodes`,
    );
    const procs = kernel.callsTo('writeFile').filter((c) => c.path.endsWith('cgroup.procs')).map((c) => c.path);
    expect(procs.slice(-3)).toEqual([join(host.mount('cpu'), 'cgroup.procs'), join(host.mount('cpuacct'), 'cgroup.procs'), join(host.mount('cpuset'), 'cgroup.procs')]);
    expect(kernel.callsTo('rmdir')).toHaveLength(10);
  });
});

describe('applyLimits', () => {
  it('writes the device rules first, then the limits, each into its controller\'s hierarchy', () => {
    const host = on();
    const kernel = new FakeCgroupfs(host);
    const planned = v1Driver.plan(
      kernel,
      request({ resources: { devices: [{ allow: false, access: 'rwm' }], memory: { limit: 33554432 }, pids: { limit: 16 }, cpu: { quota: 20000 } } }),
      host.layout,
    );
    planned.create(42);
    const before = kernel.calls.length;
    planned.applyLimits();
    const writes = kernel.calls.slice(before).filter((c) => c.op === 'writeFile');
    const short = (path: string) => path.slice(host.root.length + 1);
    expect(writes.slice(0, 3).map((c) => [short(c.path), c.data])).toEqual([
      ['devices/c1/devices.deny', 'a'],
      ['devices/c1/devices.deny', 'a'],
      ['devices/c1/devices.allow', 'c *:* m'],
    ]);
    expect(writes.slice(-3).map((c) => [short(c.path), c.data])).toEqual([
      ['memory/process_api/abc/c1/memory.limit_in_bytes', '33554432'],
      ['cpu/c1/cpu.cfs_quota_us', '20000'],
      ['pids/c1/pids.max', '16'],
    ]);
  });

  it('enables a cgroup2 controller down the unified tree before writing its v2 files there', () => {
    const host = on();
    const unified = host.mount('');
    const kernel = new FakeCgroupfs(host, { [join(unified, 'cgroup.subtree_control')]: '' });
    const planned = v1Driver.plan(kernel, request({ resources: { hugepageLimits: [{ pageSize: '2MB', limit: 2097152 }] } }), host.layout);
    planned.create(1);
    planned.applyLimits();
    const writes = kernel.callsTo('writeFile').filter((c) => c.path.startsWith(unified) && !c.path.endsWith('cgroup.procs'));
    expect(writes.map((c) => [c.path.slice(unified.length + 1), c.data])).toEqual([
      ['cgroup.subtree_control', '+hugetlb'],
      ['c1/hugetlb.2MB.max', '2097152'],
      ['c1/hugetlb.2MB.rsvd.max', '2097152'],
    ]);
  });

  it('falls back to BFQ\'s weight file where CFQ\'s is missing', () => {
    const host = on();
    const cfq = join(host.mount('blkio'), 'c1/blkio.weight');
    const kernel = new FakeCgroupfs(host).failOn('writeFile', 'EACCES', { when: (c) => c.path === cfq });
    const planned = v1Driver.plan(kernel, request({ resources: { blockIO: { weight: 300 } } }), host.layout);
    planned.create(1);
    planned.applyLimits();
    expect(kernel.files.get(join(host.mount('blkio'), 'c1/blkio.bfq.weight'))).toBe('300');
  });

  it('names the value, the file, the errno, the field and what to do when the kernel refuses a limit', () => {
    const host = on();
    const dir = join(host.mount('memory'), 'process_api/abc/c1');
    const kernel = new FakeCgroupfs(host, { [join(dir, 'memory.usage_in_bytes')]: '50000000\n' }).failOn('writeFile', 'EBUSY', {
      when: (c) => c.path.endsWith('memory.limit_in_bytes'),
    });
    const planned = v1Driver.plan(kernel, request({ resources: { memory: { limit: 1000000 } } }), host.layout);
    planned.create(1);
    expect(() => planned.applyLimits()).toThrow(
      `write "1000000" to ${dir}/memory.limit_in_bytes (linux.resources.memory.limit): EBUSY (resource busy or locked): the container uses 50000000 bytes (memory.usage_in_bytes), more than the new limit, and the kernel could not reclaim enough; give a larger value`,
    );
  });

  it('explains a missing swap account', () => {
    const host = on();
    const kernel = new FakeCgroupfs(host).failOn('writeFile', 'ENOENT', { when: (c) => c.path.endsWith('memory.memsw.limit_in_bytes') });
    const planned = v1Driver.plan(kernel, request({ resources: { memory: { limit: 1000, swap: 2000 } } }), host.layout);
    planned.create(1);
    expect(() => planned.applyLimits()).toThrow(/memory\.memsw\.limit_in_bytes \(linux\.resources\.memory\.swap\): ENOENT .*: this kernel does not account swap/);
  });
});

describe('plan', () => {
  it('lists the device rules and every limit that is not a kernel default as requested', () => {
    const host = on();
    const planned = v1Driver.plan(
      new FakeCgroupfs(host),
      request({ resources: { devices: [{ allow: true, type: 'c', major: 1, minor: 3, access: 'r' }], cpu: { shares: 1024, quota: 1000 }, pids: { limit: -1 }, memory: { limit: 5000 } } }),
      host.layout,
    );
    expect(planned.requested).toEqual(['linux.resources.devices', 'linux.resources.memory.limit', 'linux.resources.cpu.quota']);
    const none = v1Driver.plan(new FakeCgroupfs(host), request({ resources: { cpu: { shares: 1024 } } }), host.layout);
    expect(none.requested).toEqual([]);
  });

  it('refuses, all at once and before anything exists, what this host cannot honour', () => {
    const host = on();
    const kernel = new FakeCgroupfs(host);
    let message = '';
    try {
      v1Driver.plan(kernel, request({ resources: { devices: [{ allow: true, access: '' }], network: { classID: 3 }, unified: { 'memory.high': '5' } } }), host.layout);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.split('\n').map((line) => line.slice(0, line.indexOf(':')))).toEqual([
      'linux.resources.devices[0].access',
      'linux.resources.network.classID needs the cgroup v1 net_cls controller, which no hierarchy on this host carries (mounted',
      'linux.resources.unified["memory.high"]',
    ]);
    expect(kernel.calls.filter((c) => c.op !== 'readFile')).toEqual([]);
  });

  it('passes on what it leaves aside', () => {
    const host = on();
    expect(v1Driver.plan(new FakeCgroupfs(host), request({ resources: { memory: { kernel: 1 << 20 } } }), host.layout).ignored).toEqual([
      expect.stringMatching(/^linux\.resources\.memory\.kernel: ignored/),
    ]);
  });
});
