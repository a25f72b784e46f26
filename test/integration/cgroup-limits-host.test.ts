import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupLayout, directoryOf, parseProcCgroup } from '../../src/linux/cgroups/layout.js';
import { cgroup2Root, nobodyBundle, sandbox, shell, skipReason, tsrunBin, type ConfigObject, type Sandbox } from './support/harness.js';

// This host keeps its controllers in cgroup v1 hierarchies (cgroup2, at
// /sys/fs/cgroup/unified, holds only hugetlb): tsrun's v1 driver gives each
// container a cgroup in every hierarchy. Every limit is shown by its effect
// on processes, and by the kernel's own files, never by what tsrun meant.

const skip = skipReason() ?? notV1();

function notV1(): string | undefined {
  const layout = cgroupLayout();
  if (layout.kind === 'unified') return 'this host has cgroup v2 alone: its limits are proved in test/vm';
  const missing = ['memory', 'pids', 'cpu', 'cpuacct', 'freezer', 'devices'].filter((c) => !layout.v1.some((h) => h.controllers.includes(c)));
  return missing.length > 0 ? `no cgroup v1 hierarchy here carries ${missing.join(', ')}` : undefined;
}
if (skip !== undefined) console.warn(`skipping the cgroup v1 host tests: ${skip}`);

/** The host directory of a process's cgroup in the hierarchy carrying `controller` ("" for cgroup2). */
function cgroupDir(pid: number, controller: string): string {
  const layout = cgroupLayout();
  const own = parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
  const hierarchy = controller === '' ? layout.unified : layout.v1.find((h) => h.controllers.includes(controller));
  if (hierarchy === undefined) throw new Error(`no hierarchy carries ${controller}`);
  const path = own.get(hierarchy.name);
  if (path === undefined) throw new Error(`/proc/${pid}/cgroup has no line for ${hierarchy.name}`);
  return directoryOf(hierarchy, path);
}

function read(dir: string, file: string): string {
  return readFileSync(join(dir, file), 'utf8').trim();
}

async function waitFor(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  for (const deadline = Date.now() + ms; !condition(); await sleep(20)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

describe.skipIf(skip !== undefined)('cgroup v1 limits and commands on this host', () => {
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

  /** A detached container running `script`, with /out bound to a host directory; returns that directory. */
  function detached(id: string, script: string, edit: (c: ConfigObject) => void = () => {}): string {
    const dir = join(s.dir, `${id}-out`);
    mkdirSync(dir);
    const bundle = s.bundle(id, (c) => {
      c.mounts.push({ destination: '/out', type: 'bind', source: dir, options: ['rbind', 'rw'] });
      shell(c, script);
      edit(c);
    });
    const r = s.tsrun(['run', '-d', '--bundle', bundle, id]);
    expect(r.status, r.stderr).toBe(0);
    return dir;
  }

  it('gives the container a cgroup of its own in every hierarchy, the unified one included; delete removes them all', () => {
    const pid = s.running('cgv1-every');
    const layout = cgroupLayout();
    const own = parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
    const mine = parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'));
    const dirs: string[] = [];
    for (const hierarchy of [...layout.v1, ...(layout.unified === undefined ? [] : [layout.unified])]) {
      const path = own.get(hierarchy.name);
      expect(path, hierarchy.name).toBeDefined();
      expect(path, `${hierarchy.name}: not the test runner's own cgroup`).not.toBe(mine.get(hierarchy.name));
      expect(path?.endsWith('/cgv1-every'), `${hierarchy.name}: ${path}`).toBe(true);
      const dir = directoryOf(hierarchy, path as string);
      expect(read(dir, 'cgroup.procs').split('\n').map(Number)).toContain(pid);
      dirs.push(dir);
    }
    const del = s.tsrun(['delete', '--force', 'cgv1-every']);
    expect(del.status, del.stderr).toBe(0);
    expect(dirs.filter((d) => existsSync(d))).toEqual([]);
  });

  it('--systemd-cgroup here (cgroup v1, no systemd) warns, and makes the cgroups itself at the paths systemd would give', () => {
    const bundle = s.bundle('cgv1-sd', (c) => {
      c.process.args = ['sleep', '1000'];
      c.linux.cgroupsPath = 'system.slice:tsrun:cgv1-sd';
    });
    const r = s.tsrun(['--systemd-cgroup', 'run', '-d', '--bundle', bundle, 'cgv1-sd']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('--systemd-cgroup: the systemd driver works on a cgroup v2 host only');
    const pid = state('cgv1-sd').pid;
    const memory = cgroupDir(pid, 'memory');
    expect(memory.endsWith('/system.slice/tsrun-cgv1-sd.scope'), memory).toBe(true);
    expect(s.tsrun(['delete', '--force', 'cgv1-sd']).status).toBe(0);
    expect(existsSync(memory)).toBe(false);
  });

  it('a "cgroup" mount shows the container its own cgroup in each hierarchy, with its limits, never the host\'s tree', () => {
    const pid = s.running('cgv1-view', (c) => {
      c.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] });
      c.linux.resources.memory = { limit: 40 * 2 ** 20 };
      c.linux.resources.pids = { limit: 77 };
    });
    const r = s.tsrun(['exec', 'cgv1-view', 'sh', '-c', 'ls /sys/fs/cgroup; cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; stat -c "inode %i" /sys/fs/cgroup/memory; touch /sys/fs/cgroup/x 2>&1; (echo $$ > /sys/fs/cgroup/pids/cgroup.procs) 2>&1; true']);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    for (const hierarchy of cgroupLayout().v1) {
      for (const name of hierarchy.controllers) expect(lines, name).toContain(name);
    }
    expect(lines).toContain(String(40 * 2 ** 20));
    expect(lines).toContain('77');
    // The very directory of the container's memory cgroup on the host, not the hierarchy's root.
    expect(lines).toContain(`inode ${statSync(cgroupDir(pid, 'memory')).ino}`);
    expect(r.stdout).toMatch(/touch: \/sys\/fs\/cgroup\/x: Read-only file system/);
    expect(r.stdout).toMatch(/cgroup\.procs: (Read-only file system|Permission denied)/);
    expect(s.tsrun(['delete', '--force', 'cgv1-view']).status).toBe(0);
  });

  it('a memory hog is OOM-killed at its limit; the kernel counts it and `events` reports it', async () => {
    const pid = s.running('cgv1-oom', (c) => {
      c.linux.resources.memory = { limit: 32 * 2 ** 20, swap: 32 * 2 ** 20 };
    });
    const memory = cgroupDir(pid, 'memory');
    expect(read(memory, 'memory.limit_in_bytes')).toBe(String(32 * 2 ** 20));
    expect(read(memory, 'memory.memsw.limit_in_bytes')).toBe(String(32 * 2 ** 20));
    const out = join(s.dir, 'oom-events.out');
    const watcher = spawnSync(
      'sh',
      // The oom line must come while the container still runs (the kernel's notification, not the
      // count read when it stops): wait for it up to 5 s, and only then kill the container.
      [
        '-c',
        `${tsrunBin} --root ${s.root} events --interval 10s cgv1-oom > ${out} & sleep 0.5; ` +
          `${tsrunBin} --root ${s.root} exec cgv1-oom sh -c 'head -c 200m /dev/zero | tail'; echo "hog=$?"; ` +
          `i=0; while [ $i -lt 50 ] && ! grep -q '"oom"' ${out}; do sleep 0.1; i=$((i+1)); done; echo "waited=$i"; ` +
          `${tsrunBin} --root ${s.root} kill cgv1-oom KILL; wait`,
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(watcher.stdout, watcher.stderr).toMatch(/hog=137/);
    expect(Number(/waited=(\d+)/.exec(watcher.stdout)?.[1]), 'the oom line came before the container was killed').toBeLessThan(50);
    expect(Number(/^oom_kill (\d+)$/m.exec(read(memory, 'memory.oom_control'))?.[1] ?? 0)).toBeGreaterThanOrEqual(1);
    const events = readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { type: string; id: string });
    expect(events).toContainEqual({ type: 'oom', id: 'cgv1-oom' });
    expect(s.tsrun(['delete', 'cgv1-oom']).status).toBe(0);
  });

  it('pids.limit stops a fork loop at the limit', () => {
    const pid = s.running('cgv1-pids', (c) => {
      c.linux.resources.pids = { limit: 10 };
    });
    const pids = cgroupDir(pid, 'pids');
    expect(read(pids, 'pids.max')).toBe('10');
    // busybox sh gives up at the first fork the kernel refuses.
    const loop = s.tsrun(['exec', 'cgv1-pids', 'sh', '-c', 'for i in $(seq 1 40); do sleep 1000 & done']);
    expect(loop.status).not.toBe(0);
    expect(loop.stderr).toMatch(/can't fork/);
    expect(Number(read(pids, 'pids.current'))).toBeLessThanOrEqual(10);
    expect(Number(/^max (\d+)$/m.exec(read(pids, 'pids.events'))?.[1])).toBeGreaterThan(0);
    expect(s.tsrun(['delete', '--force', 'cgv1-pids']).status).toBe(0);
  });

  it('a cpu quota holds a busy loop near its quota, and the kernel throttles it', async () => {
    const pid = s.running('cgv1-cpu', (c) => {
      c.linux.resources.cpu = { quota: 20_000, period: 100_000 };
      shell(c, 'while :; do :; done');
    });
    const cpu = cgroupDir(pid, 'cpu');
    const cpuacct = cgroupDir(pid, 'cpuacct');
    expect(read(cpu, 'cpu.cfs_quota_us')).toBe('20000');
    expect(read(cpu, 'cpu.cfs_period_us')).toBe('100000');
    const usage = () => Number(read(cpuacct, 'cpuacct.usage'));
    const start = usage();
    const t0 = process.hrtime.bigint();
    await sleep(1000);
    const wall = Number(process.hrtime.bigint() - t0);
    const used = usage() - start;
    // 20% of one CPU, whatever the load; a little over for the period in flight.
    expect(used / wall).toBeLessThan(0.3);
    expect(used).toBeGreaterThan(0);
    expect(Number(/^nr_throttled (\d+)$/m.exec(read(cpu, 'cpu.stat'))?.[1])).toBeGreaterThan(0);
    expect(s.tsrun(['delete', '--force', 'cgv1-cpu']).status).toBe(0);
  });

  it('a device the rules deny cannot be opened; one they allow can', () => {
    const write = (id: string, allow: boolean) => {
      const bundle = s.bundle(id, (c) => {
        c.process.capabilities.bounding.push('CAP_MKNOD');
        c.process.capabilities.effective.push('CAP_MKNOD');
        c.process.capabilities.permitted.push('CAP_MKNOD');
        if (allow) c.linux.resources.devices.push({ allow: true, type: 'c', major: 1, minor: 11, access: 'w' });
        // /dev/kmsg (1:11): writing a line to the kernel log is harmless.
        // (In /dev: the test's /tmp is nodev.)
        shell(c, 'mknod /dev/kmsg-test c 1 11 && echo "<7>tsrun device test" > /dev/kmsg-test && echo opened');
      });
      return s.tsrun(['run', '--bundle', bundle, id]);
    };
    const denied = write('cgv1-dev-deny', false);
    expect(denied.stdout).not.toContain('opened');
    expect(denied.stderr).toMatch(/Operation not permitted/);
    const allowed = write('cgv1-dev-allow', true);
    expect(allowed.status, allowed.stderr).toBe(0);
    expect(allowed.stdout).toContain('opened');
  });

  it('pause freezes every process (state paused, no progress), resume thaws it, delete --force works paused', async () => {
    const dir = detached('cgv1-pause', 'sleep 1000 & while :; do echo x >> /out/count; done');
    const count = () => (existsSync(join(dir, 'count')) ? statSync(join(dir, 'count')).size : 0);
    await waitFor(() => count() > 0, 'the loop to start');
    const freezer = cgroupDir(state('cgv1-pause').pid, 'freezer');

    const paused = s.tsrun(['pause', 'cgv1-pause']);
    expect(paused.status, paused.stderr).toBe(0);
    expect(state('cgv1-pause').status).toBe('paused');
    expect(read(freezer, 'freezer.state')).toBe('FROZEN');
    const before = count();
    await sleep(500);
    expect(count(), 'a frozen loop makes no progress').toBe(before);
    expect(s.tsrun(['pause', 'cgv1-pause']).stderr).toMatch(/container not running/);

    const resumed = s.tsrun(['resume', 'cgv1-pause']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(state('cgv1-pause').status).toBe('running');
    expect(read(freezer, 'freezer.state')).toBe('THAWED');
    await waitFor(() => count() > before, 'the loop to go on');
    expect(s.tsrun(['resume', 'cgv1-pause']).stderr).toMatch(/container not paused/);

    expect(s.tsrun(['pause', 'cgv1-pause']).status).toBe(0);
    const del = s.tsrun(['delete', '--force', 'cgv1-pause']);
    expect(del.status, del.stderr).toBe(0);
    expect(existsSync(freezer)).toBe(false);
  });

  it('update changes a running container\'s limits in place; a memory limit below its usage is refused with checkBeforeUpdate', () => {
    const pid = s.running('cgv1-update', (c) => {
      c.linux.resources.memory = { limit: 64 * 2 ** 20 };
      c.linux.resources.pids = { limit: 100 };
    });
    const memory = cgroupDir(pid, 'memory');
    const pids = cgroupDir(pid, 'pids');
    const update = s.tsrun(['update', '--memory', '128m', '--pids-limit', '50', '--cpu-quota', '30000', 'cgv1-update']);
    expect(update.status, update.stderr).toBe(0);
    expect(read(memory, 'memory.limit_in_bytes')).toBe(String(128 * 2 ** 20));
    expect(read(pids, 'pids.max')).toBe('50');
    expect(read(cgroupDir(pid, 'cpu'), 'cpu.cfs_quota_us')).toBe('30000');

    const resources = join(s.dir, 'tight.json');
    writeFileSync(resources, JSON.stringify({ memory: { limit: 4096, checkBeforeUpdate: true } }));
    const tight = s.tsrun(['update', '--resources', resources, 'cgv1-update']);
    expect(tight.status).not.toBe(0);
    expect(tight.stderr).toMatch(/linux\.resources\.memory\.limit: 4096 bytes is not above the container's current usage/);
    expect(read(memory, 'memory.limit_in_bytes')).toBe(String(128 * 2 ** 20));
    expect(s.tsrun(['delete', '--force', 'cgv1-update']).status).toBe(0);
  });

  it('events --stats shows the container\'s own numbers, as the kernel counts them', () => {
    const pid = s.running('cgv1-stats', (c) => {
      c.linux.resources.memory = { limit: 48 * 2 ** 20 };
      c.linux.resources.pids = { limit: 30 };
    });
    const r = s.tsrun(['events', '--stats', 'cgv1-stats']);
    expect(r.status, r.stderr).toBe(0);
    const event = JSON.parse(r.stdout);
    expect(event).toMatchObject({ type: 'stats', id: 'cgv1-stats' });
    expect(event.data.memory.usage.limit).toBe(48 * 2 ** 20);
    expect(event.data.memory.usage.usage).toBeGreaterThan(0);
    expect(event.data.pids).toEqual({ current: Number(read(cgroupDir(pid, 'pids'), 'pids.current')), limit: 30 });
    expect(event.data.cpu.usage.total).toBeGreaterThan(0);
    expect(s.tsrun(['delete', '--force', 'cgv1-stats']).status).toBe(0);
  });

  it('ps --format json lists the pids of the container\'s cgroup; the table is ps -ef filtered', async () => {
    detached('cgv1-ps', 'sleep 1000 & sleep 1000');
    const init = state('cgv1-ps').pid;
    const procs = () => read(cgroupDir(init, 'pids'), 'cgroup.procs').split('\n').filter(Boolean).map(Number).sort((a, b) => a - b);
    await waitFor(() => procs().length >= 2, 'both sleeps');
    const json = s.tsrun(['ps', '--format', 'json', 'cgv1-ps']);
    expect(json.status, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(procs());
    const table = s.tsrun(['ps', 'cgv1-ps']);
    expect(table.status, table.stderr).toBe(0);
    const [header, ...lines] = table.stdout.trim().split('\n');
    expect(header).toMatch(/\bPID\b/);
    expect(lines.filter((line) => line.includes('sleep 1000'))).toHaveLength(2);
    expect(s.tsrun(['delete', '--force', 'cgv1-ps']).status).toBe(0);
  });

  it('hugetlb, which only cgroup2 carries here, is limited in the container\'s unified cgroup', () => {
    const controllers = read(cgroup2Root(), 'cgroup.controllers').split(/\s+/);
    if (!controllers.includes('hugetlb') || !existsSync('/sys/kernel/mm/hugepages/hugepages-2048kB')) {
      console.warn('skipping the hugetlb check: cgroup2 here has no hugetlb controller, or the kernel has no 2 MB pages');
      return;
    }
    const pid = s.running('cgv1-huge', (c) => {
      c.linux.resources.hugepageLimits = [{ pageSize: '2MB', limit: 4 * 2 ** 20 }];
    });
    expect(read(cgroupDir(pid, ''), 'hugetlb.2MB.max')).toBe(String(4 * 2 ** 20));
    expect(s.tsrun(['delete', '--force', 'cgv1-huge']).status).toBe(0);
  });

  it('events streams stats and ends when the container stops', () => {
    s.running('cgv1-events');
    const out = join(s.dir, 'events.out');
    const events = spawnSync('sh', ['-c', `${tsrunBin} --root ${s.root} events --interval 100ms cgv1-events > ${out} & sleep 0.6; ${tsrunBin} --root ${s.root} kill cgv1-events KILL; wait`], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(events.status, events.stderr).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { type: string; id: string });
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.every((e) => e.type === 'stats' && e.id === 'cgv1-events')).toBe(true);
    expect(s.tsrun(['delete', 'cgv1-events']).status).toBe(0);
  });

  it('an unprivileged caller without a delegated cgroup gets a clear error for a limit, not a container without it', () => {
    const nobody = nobodyBundle('tsrun-cgv1-rootless-');
    const { dir, bundle } = nobody;
    try {
      expect(nobody.tsrun(['spec', '--rootless']).status).toBe(0);
      const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
      config.process.terminal = false;
      config.process.args = ['/bin/true'];
      config.linux.resources = { pids: { limit: 10 } };
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
      const r = nobody.tsrun(['--root', join(dir, 'state'), 'run', 'cgv1-rootless']);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/EACCES.*: linux\.resources\.pids\.limit needs a cgroup, and none is delegated to this user; remove the limits or delegate a cgroup/);
      expect(existsSync(join(dir, 'state', 'cgv1-rootless'))).toBe(false);
    } finally {
      nobody.cleanup();
    }
  });
});
