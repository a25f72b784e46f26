import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroup2Root, nobodyBundle, sandbox, shell, skipReason, tsrunBin, type Sandbox } from './support/harness.js';

// This host is hybrid: cgroup2 lives at /sys/fs/cgroup/unified and offers
// only hugetlb, the v1 hierarchies own memory, cpu, pids and io. So the
// limits themselves are proved in a VM with a full cgroup2 tree; here we
// prove what a hybrid host can show: refusals that leave nothing behind,
// the freezer, ps, hugetlb limits and their update, delete.

const skip = skipReason();

function controllers(): string[] {
  return readFileSync(join(cgroup2Root(), 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
}

/** Why a test that needs this host to be hybrid in a given way cannot run here (printed), or undefined. */
function unless(condition: () => boolean, why: string): string | undefined {
  if (skip !== undefined || condition()) return undefined;
  console.warn(`skipping a cgroup-limits-host test: ${why}`);
  return why;
}
const noMemoryRefusal = unless(
  () => !controllers().includes('memory'),
  'cgroup2 here has the memory controller, so a memory limit is not refused (the limit itself is proved in test/vm)',
);
const noHugetlb = unless(
  () => controllers().includes('hugetlb') && hugePage2MB() !== undefined,
  'cgroup2 here has no hugetlb controller, or the kernel has no 2 MB huge pages',
);

describe.skipIf(skip !== undefined)('cgroup v2 limits and commands on this (hybrid) host', () => {
  let s: Sandbox;
  beforeAll(() => {
    s = sandbox();
  });
  afterAll(() => s.cleanup());

  function state(id: string): { status: string; pid: number } {
    const r = s.tsrun(['state', id]);
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  }

  /** A detached container whose shell loop appends to <dir>/count as fast as it can. */
  function busyContainer(id: string, edit: (config: ReturnType<typeof JSON.parse>) => void = () => {}): { dir: string; count: () => number } {
    const dir = join(s.dir, `${id}-out`);
    mkdirSync(dir);
    const bundle = s.bundle(id, (c) => {
      c.mounts.push({ destination: '/out', type: 'bind', source: dir, options: ['rbind', 'rw'] });
      shell(c, 'sleep 1000 & while :; do echo x >> /out/count; done');
      edit(c);
    });
    const r = s.tsrun(['run', '-d', '--bundle', bundle, id]);
    expect(r.status, r.stderr).toBe(0);
    return { dir, count: () => (existsSync(join(dir, 'count')) ? statSync(join(dir, 'count')).size : 0) };
  }

  it.skipIf(noMemoryRefusal !== undefined)('refuses a memory limit, naming the missing controller, and leaves nothing behind', () => {
    const bundle = s.bundle('cgh-mem', (c) => {
      c.linux.resources.memory = { limit: 64 * 1024 * 1024 };
      shell(c, 'true');
    });
    const r = s.tsrun(['run', '--bundle', bundle, 'cgh-mem']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`linux.resources.memory.limit needs the cgroup v2 memory controller, which is not available in ${cgroup2Root()} (cgroup.controllers: ${controllers().join(' ')})`);
    expect(r.stderr).toMatch(/on this hybrid host the cgroup v1 hierarchy at \S+ owns it/);
    expect(existsSync(join(s.root, 'cgh-mem'))).toBe(false);
    expect(existsSync(join(cgroup2Root(), 'cgh-mem'))).toBe(false);
  });

  it('refuses what cgroup v2 cannot express before anything exists', () => {
    const bundle = s.bundle('cgh-rt', (c) => {
      c.linux.resources.cpu = { realtimeRuntime: 950000 };
      c.linux.resources.unified = { 'cgroup.procs': '1' };
    });
    const r = s.tsrun(['create', '--bundle', bundle, 'cgh-rt']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('linux.resources.cpu.realtimeRuntime: cgroup v2 has no real-time CPU bandwidth control; remove the field');
    expect(r.stderr).toContain('linux.resources.unified[\\"cgroup.procs\\"]: cgroup.procs is managed by the runtime');
    expect(existsSync(join(s.root, 'cgh-rt'))).toBe(false);
    expect(existsSync(join(cgroup2Root(), 'cgh-rt'))).toBe(false);
  });

  it('pause freezes the container (state paused, no progress), resume thaws it', async () => {
    expect(existsSync(join(cgroup2Root(), 'cgroup.controllers'))).toBe(true);
    const { count } = busyContainer('cgh-pause');
    const cgroup = join(cgroup2Root(), 'cgh-pause');
    expect(existsSync(join(cgroup, 'cgroup.freeze')), 'the unified tree has the v2 freezer').toBe(true);
    await waitFor(() => count() > 0);

    const paused = s.tsrun(['pause', 'cgh-pause']);
    expect(paused.status, paused.stderr).toBe(0);
    expect(state('cgh-pause').status).toBe('paused');
    expect(readFileSync(join(cgroup, 'cgroup.events'), 'utf8')).toMatch(/^frozen 1$/m);
    const before = count();
    await sleep(500);
    expect(count(), 'a frozen loop makes no progress').toBe(before);
    expect(s.tsrun(['pause', 'cgh-pause']).stderr).toMatch(/container not running/);

    const resumed = s.tsrun(['resume', 'cgh-pause']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(state('cgh-pause').status).toBe('running');
    await waitFor(() => count() > before);
    expect(s.tsrun(['resume', 'cgh-pause']).stderr).toMatch(/container not paused/);

    // A paused container is deleted with --force too.
    expect(s.tsrun(['pause', 'cgh-pause']).status).toBe(0);
    const del = s.tsrun(['delete', '--force', 'cgh-pause']);
    expect(del.status, del.stderr).toBe(0);
    expect(existsSync(cgroup)).toBe(false);
  });

  it('ps --format json lists the pids of the container\'s cgroup; the table is ps -ef filtered', async () => {
    busyContainer('cgh-ps');
    const init = state('cgh-ps').pid;
    const cgroupProcs = () =>
      readFileSync(join(cgroup2Root(), 'cgh-ps', 'cgroup.procs'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map(Number)
        .sort((a, b) => a - b);
    await waitFor(() => cgroupProcs().length >= 2);
    const json = s.tsrun(['ps', '--format', 'json', 'cgh-ps']);
    expect(json.status, json.stderr).toBe(0);
    const pids = JSON.parse(json.stdout) as number[];
    expect(pids).toContain(init);
    expect(pids.filter((pid) => existsSync(`/proc/${pid}`))).toEqual(cgroupProcs().filter((pid) => pids.includes(pid)));
    expect(pids.length).toBeGreaterThanOrEqual(2);

    const table = s.tsrun(['ps', 'cgh-ps']);
    expect(table.status, table.stderr).toBe(0);
    const [header, ...lines] = table.stdout.trim().split('\n');
    expect(header).toMatch(/\bPID\b/);
    expect(lines.some((line) => line.includes('sleep 1000'))).toBe(true);
    expect(lines.every((line) => pids.includes(Number(line.trim().split(/\s+/)[1])))).toBe(true);

    expect(s.tsrun(['delete', '--force', 'cgh-ps']).status).toBe(0);
  });

  it.skipIf(noHugetlb !== undefined)(
    'writes hugetlb limits, enabling the controller down the path, and update changes them',
    () => {
      const cgroup = join(cgroup2Root(), 'cgh-tree', 'cgh-huge');
      busyContainer('cgh-huge', (c) => {
        c.linux.cgroupsPath = '/cgh-tree/cgh-huge';
        c.linux.resources.hugepageLimits = [{ pageSize: '2MB', limit: 4 * 2 ** 20 }];
      });
      expect(readFileSync(join(cgroup2Root(), 'cgroup.subtree_control'), 'utf8')).toMatch(/\bhugetlb\b/);
      expect(readFileSync(join(cgroup2Root(), 'cgh-tree', 'cgroup.subtree_control'), 'utf8').trim()).toBe('hugetlb');
      expect(readFileSync(join(cgroup, 'hugetlb.2MB.max'), 'utf8').trim()).toBe(String(4 * 2 ** 20));

      const resources = join(s.dir, 'update.json');
      writeFileSync(resources, JSON.stringify({ hugepageLimits: [{ pageSize: '2MB', limit: 8 * 2 ** 20 }] }));
      const update = s.tsrun(['update', '--resources', resources, 'cgh-huge']);
      expect(update.status, update.stderr).toBe(0);
      expect(readFileSync(join(cgroup, 'hugetlb.2MB.max'), 'utf8').trim()).toBe(String(8 * 2 ** 20));

      const refused = s.tsrun(['update', '--memory', '512m', 'cgh-huge']);
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toContain('linux.resources.memory.limit needs the cgroup v2 memory controller');

      const stats = s.tsrun(['events', '--stats', 'cgh-huge']);
      expect(stats.status, stats.stderr).toBe(0);
      const event = JSON.parse(stats.stdout);
      expect(event).toMatchObject({ type: 'stats', id: 'cgh-huge', data: { hugetlb: { '2MB': { failcnt: 0 } } } });
      expect(event.data.pids.current).toBeGreaterThanOrEqual(2);

      const del = s.tsrun(['delete', '--force', 'cgh-huge']);
      expect(del.status, del.stderr).toBe(0);
      expect(existsSync(cgroup)).toBe(false);
      expect(existsSync(join(cgroup2Root(), 'cgh-tree')), 'the parent create made is removed too').toBe(false);
    },
  );

  it('events streams stats and ends when the container stops', async () => {
    busyContainer('cgh-events');
    const out = join(s.dir, 'events.out');
    const events = spawnSync('sh', ['-c', `${tsrunBin} --root ${s.root} events --interval 100ms cgh-events > ${out} & sleep 0.6; ${tsrunBin} --root ${s.root} kill cgh-events KILL; wait`], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(events.status, events.stderr).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { type: string; id: string });
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.every((e) => e.type === 'stats' && e.id === 'cgh-events')).toBe(true);
    expect(s.tsrun(['delete', 'cgh-events']).status).toBe(0);
  });

  it.skipIf(noHugetlb !== undefined)(
    'an unprivileged caller without a delegated cgroup gets a clear error for a limit, not a container without it',
    () => {
      const nobody = nobodyBundle('tsrun-cgh-rootless-');
      const { dir, bundle } = nobody;
      const asNobody = (args: string[]) => nobody.tsrun(args);
      try {
        expect(asNobody(['spec', '--rootless']).status).toBe(0);
        const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
        config.process.terminal = false;
        config.process.args = ['/bin/true'];
        config.linux.resources = { hugepageLimits: [{ pageSize: '2MB', limit: 2 ** 21 }] };
        writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
        const r = asNobody(['--root', join(dir, 'state'), 'run', 'cgh-rootless']);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/EACCES.*: linux\.resources\.hugepageLimits\[0\] needs a cgroup, and none is delegated to this user; remove the limits or delegate a cgroup/);
        expect(existsSync(join(dir, 'state', 'cgh-rootless'))).toBe(false);
      } finally {
        nobody.cleanup();
      }
    },
  );
});

function hugePage2MB(): string | undefined {
  return existsSync('/sys/kernel/mm/hugepages/hugepages-2048kB') ? '2MB' : undefined;
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  for (const start = Date.now(); !condition(); await sleep(20)) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
  }
}
