import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CgroupPlacement } from '../../../../../src/linux/cgroups/manager.js';
import { fakeHost, FakeCgroupfs, THIS_HOST, type FakeHost } from './fake-host.js';

// update reads /proc/self/mountinfo for the cgroup2 root: each test's host answers it.
const fake = vi.hoisted(() => ({ files: undefined as Record<string, string> | undefined }));
vi.mock('node:fs', async (importOriginal) => {
  const { withReadFileOverlay } = await import('../../../fakes/read-file-overlay.js');
  return withReadFileOverlay(await importOriginal<typeof import('node:fs')>(), () => fake.files);
});
// The kernel's release decides whether memory.kernel is written: a kernel after 6.1 here.
vi.mock('node:os', async (importOriginal) => ({ ...(await importOriginal<typeof import('node:os')>()), release: () => '6.18.0' }));
const { v1Driver } = await import('../../../../../src/linux/cgroups/v1/driver.js');

afterEach(() => {
  fake.files = undefined;
});

/** A container's cgroups as create left them, with real directories (treePids and removeTree read them). */
function existing(host: FakeHost = fakeHost(THIS_HOST), pids: readonly number[] = []): { host: FakeHost; placement: CgroupPlacement } {
  fake.files = { '/proc/self/cgroup': host.procSelfCgroup, '/proc/self/mountinfo': host.mountinfo };
  const dirs: Record<string, string> = {};
  for (const hierarchy of [...host.layout.v1, ...(host.layout.unified === undefined ? [] : [host.layout.unified])]) {
    const dir = join(hierarchy.mountPoint, 'made/c1');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'cgroup.procs'), pids.map((p) => `${p}\n`).join(''));
    dirs[hierarchy.name] = dir;
  }
  const createdParents = Object.values(dirs).map((d) => join(d, '..'));
  return { host, placement: { version: 1, dirs, createdParents } };
}

describe('a container\'s v1 cgroups', () => {
  it('moves one more process into every hierarchy', () => {
    const { host, placement } = existing();
    const kernel = new FakeCgroupfs(host);
    v1Driver.open(kernel, placement).join(77);
    expect(kernel.callsTo('writeFile').map((c) => [c.path, c.data, c.field])).toEqual(
      Object.values(placement.dirs).map((d) => [join(d, 'cgroup.procs'), '77', "the container's cgroup"]),
    );
  });

  it('update writes the new limits, leaves the device rules alone and returns what it ignores', async () => {
    const { host, placement } = existing();
    const kernel = new FakeCgroupfs(host);
    const ignored = await v1Driver.open(kernel, placement).update({ devices: [{ allow: true, access: 'rwm' }], pids: { limit: 8 }, memory: { kernel: 5 } }, { pids: { limit: 8 } });
    expect(kernel.callsTo('writeFile').map((c) => [c.path, c.data])).toEqual([[join(placement.dirs['pids'] as string, 'pids.max'), '8']]);
    expect(ignored).toEqual([expect.stringMatching(/^linux\.resources\.memory\.kernel: ignored/)]);
  });

  it('update refuses a memory limit at or below the usage when checkBeforeUpdate asks, before any write', async () => {
    const { host, placement } = existing();
    const memory = placement.dirs['memory'] as string;
    const kernel = new FakeCgroupfs(host, { [join(memory, 'memory.usage_in_bytes')]: '4000000\n' });
    const cgroup = v1Driver.open(kernel, placement);
    await expect(cgroup.update({ memory: { limit: 3000000, checkBeforeUpdate: true } }, { memory: { limit: 3000000 } })).rejects.toThrow(
      "linux.resources.memory.limit: 3000000 bytes is not above the container's current usage (4000000 bytes in memory.usage_in_bytes), and memory.checkBeforeUpdate is set",
    );
    expect(kernel.callsTo('writeFile')).toEqual([]);
    // A limit kept from before is not checked again.
    await cgroup.update({ memory: { limit: 3000000, checkBeforeUpdate: true }, pids: { limit: 9 } }, { pids: { limit: 9 } });
    expect(kernel.callsTo('writeFile').map((c) => c.data)).toEqual(['3000000', '9']);
  });

  it('update refuses what the host cannot honour, all at once', async () => {
    const { host, placement } = existing();
    await expect(v1Driver.open(new FakeCgroupfs(host), placement).update({ network: { classID: 1 }, unified: { 'pids.max': '3' } }, {})).rejects.toThrow(
      /^linux\.resources\.network\.classID needs the cgroup v1 net_cls controller.*\nlinux\.resources\.unified\["pids\.max"\]: the pids controller is not in this hybrid host's cgroup2 tree/,
    );
  });

  it('pauses through the freezer hierarchy and reports paused as runc does', async () => {
    const { host, placement } = existing();
    const freezer = placement.dirs['freezer'] as string;
    const kernel = new FakeCgroupfs(host, { [join(freezer, 'freezer.self_freezing')]: '1\n' });
    const cgroup = v1Driver.open(kernel, placement);
    await cgroup.setFrozen(true);
    expect(kernel.files.get(join(freezer, 'freezer.state'))).toBe('FROZEN');
    expect(cgroup.isFrozen()).toBe(true);
    await cgroup.setFrozen(false);
    expect(cgroup.isFrozen()).toBe(false);
  });

  it('counts OOM kills from memory.oom_control', () => {
    const { host, placement } = existing();
    const memory = placement.dirs['memory'] as string;
    const kernel = new FakeCgroupfs(host, { [join(memory, 'memory.oom_control')]: 'oom_kill_disable 0\nunder_oom 0\noom_kill 3\n' });
    expect(v1Driver.open(kernel, placement).oomKills()).toBe(3);
    expect(v1Driver.open(new FakeCgroupfs(host), placement).oomKills()).toBe(0);
  });

  it('lists and signals the processes of the pids hierarchy', () => {
    const { host, placement } = existing(undefined, [10, 11]);
    const kernel = new FakeCgroupfs(host).failOn('kill', 'ESRCH', { when: (c) => c.pid === 11 });
    const cgroup = v1Driver.open(kernel, placement);
    expect(cgroup.pids()).toEqual([10, 11]);
    expect(cgroup.signal(15)).toEqual([]);
    expect(kernel.callsTo('kill')).toEqual([
      { op: 'kill', pid: 10, signal: 15 },
      { op: 'kill', pid: 11, signal: 15 },
    ]);
  });

  it('destroy freezes, kills every process once, thaws, then removes every directory and the parents create made', async () => {
    const { host, placement } = existing(undefined, [10]);
    const freezer = placement.dirs['freezer'] as string;
    const kernel = new FakeCgroupfs(host, { [join(freezer, 'freezer.state')]: 'FROZEN\n' });
    const warnings = await v1Driver.open(kernel, placement).destroy();
    expect(warnings).toEqual([]);
    const calls = kernel.summary();
    const firstKill = calls.indexOf('kill 10 9');
    expect(calls.slice(0, firstKill)).toEqual([`writeFile ${freezer}/freezer.state`, `readFile ${freezer}/freezer.state`]);
    expect(calls[firstKill + 1]).toBe(`writeFile ${freezer}/freezer.state`);
    expect(kernel.callsTo('writeFile').map((c) => c.data)).toEqual(['FROZEN', 'THAWED']);
    expect(kernel.callsTo('rmdir').map((c) => c.path)).toEqual([...Object.values(placement.dirs), ...placement.createdParents]);
  });

  it('destroy kills without freezing when the freezer does not settle, and says so', async () => {
    const { host, placement } = existing(undefined, [10]);
    const freezer = placement.dirs['freezer'] as string;
    const kernel = new FakeCgroupfs(host);
    const readFile = kernel.readFile.bind(kernel);
    kernel.readFile = (path) => (path === join(freezer, 'freezer.state') ? (readFile(path), 'FREEZING\n') : readFile(path));
    const warnings = await v1Driver.open(kernel, placement).destroy();
    expect(warnings).toEqual([expect.stringMatching(/^killing without freezing first \(a process may fork meanwhile\): .*still said FREEZING/)]);
    expect(kernel.callsTo('kill').length).toBeGreaterThan(0);
    expect(kernel.callsTo('rmdir')).toHaveLength(Object.keys(placement.dirs).length * 2);
  });

  it('destroy returns a warning for a cgroup it cannot remove, and goes on with the others', async () => {
    const { host, placement } = existing();
    const memory = placement.dirs['memory'] as string;
    const kernel = new FakeCgroupfs(host, { [join(placement.dirs['freezer'] as string, 'freezer.state')]: 'FROZEN\n' }).failOn('rmdir', 'EACCES', {
      when: (c) => c.path === memory,
    });
    const warnings = await v1Driver.open(kernel, placement).destroy();
    expect(warnings).toEqual([`cannot remove cgroup ${memory}: rmdir ${memory}: EACCES (permission denied)`]);
    expect(kernel.callsTo('rmdir').map((c) => c.path)).toContain(placement.dirs['pids']);
  });
});
