import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cannotRunContainers, sandbox, shell, tsrunBin, type ConfigObject, type Sandbox } from '../integration/support/harness.js';
import { skipUnlessRequired } from './skip-unless-required.js';

// The limits, enforced by the kernel: run in the pure cgroup v2 guest (see
// vitest.config.ts here). Elsewhere the file skips.

const CGROUP = '/sys/fs/cgroup';
const CGROUP2_MAGIC = 0x63677270;
const MiB = 2 ** 20;

function whyNot(): string | undefined {
  const reason = cannotRunContainers();
  if (reason !== undefined) return reason;
  if (statfsSync(CGROUP).type !== CGROUP2_MAGIC) return `${CGROUP} is not cgroup2 (a hybrid or v1 host): run these in .ci/cgroup2-vm`;
  const controllers = readFileSync(join(CGROUP, 'cgroup.controllers'), 'utf8');
  const missing = ['memory', 'pids', 'cpu', 'io'].filter((c) => !controllers.split(/\s+/).includes(c));
  return missing.length === 0 ? undefined : `cgroup2 lacks ${missing.join(', ')}`;
}

const skip = skipUnlessRequired('cgroup2', 'test/vm/cgroup-limits.test.ts', whyNot());

describe.skipIf(skip !== undefined)('cgroup v2 limits, enforced (pure cgroup v2 guest)', () => {
  let s: Sandbox;
  beforeAll(() => {
    s = sandbox();
  });
  afterAll(() => s.cleanup());

  const file = (id: string, name: string) => readFileSync(join(CGROUP, id, name), 'utf8').trim();
  /** One key of a flat-keyed file such as memory.events ("oom_kill 1"). */
  const keyed = (id: string, name: string, key: string) => Number(file(id, name).split('\n').find((l) => l.startsWith(`${key} `))?.split(' ')[1] ?? Number.NaN);

  function start(id: string, script: string, edit: (c: ConfigObject) => void): string {
    const out = join(s.dir, `${id}-out`);
    mkdirSync(out);
    const bundle = s.bundle(id, (c) => {
      c.mounts.push({ destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] });
      shell(c, script);
      edit(c);
    });
    const r = s.tsrun(['run', '-d', '--bundle', bundle, id]);
    expect(r.status, r.stderr).toBe(0);
    return out;
  }

  function remove(id: string): void {
    const r = s.tsrun(['delete', '--force', id]);
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(CGROUP, id)), 'delete removes the cgroup').toBe(false);
  }

  it('runs a container under memory 1 MiB and pids 1, as crun does: no Node process is ever inside', () => {
    const bundle = s.bundle('vm-tiny', (c) => {
      // crun 1.8 (Debian 12) knows spec versions up to 1.1; the bundle is shared.
      c.ociVersion = '1.0.2';
      c.process.args = ['/bin/echo', 'tiny'];
      c.linux.resources.memory = { limit: 1 * MiB };
      c.linux.resources.pids = { limit: 1 };
    });
    const r = s.tsrun(['run', '--bundle', bundle, 'vm-tiny']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('tiny\n');
    // crun, from Debian's package, with the very same bundle.
    const crun = spawnSync('crun', ['--root', join(s.dir, 'crun'), 'run', '--bundle', bundle, 'vm-tiny-crun'], { encoding: 'utf8', timeout: 60_000 });
    if (crun.error === undefined) {
      expect(crun.status, crun.stderr).toBe(0);
      expect(crun.stdout).toBe('tiny\n');
    } else {
      console.warn(`crun not run for comparison: ${crun.error.message}`);
    }
  });

  it('a container in a user namespace that shares the host cgroup namespace sees its own cgroup at /sys/fs/cgroup, as a bind (cgroup2 cannot be mounted there)', () => {
    const bundle = s.bundle('vm-userns-cg', (c) => {
      c.linux.namespaces = c.linux.namespaces.filter((ns: { type: string }) => ns.type !== 'cgroup');
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.resources.pids = { limit: 42 };
      c.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] });
      // The count is read by the shell itself (builtins only), so the cgroup holds one process then.
      shell(c, 'read max < /sys/fs/cgroup/pids.max; echo $max; n=0; while read p; do n=$((n+1)); done < /sys/fs/cgroup/cgroup.procs; echo $n; grep " /sys/fs/cgroup " /proc/self/mountinfo');
    });
    const r = s.tsrun(['run', '--bundle', bundle, 'vm-userns-cg']);
    expect(r.status, r.stderr).toBe(0);
    const [max, procs, mount] = r.stdout.trim().split('\n');
    expect(r.stdout.trim().split('\n'), r.stdout).toHaveLength(3);
    // The container's own cgroup (the root cgroup has no pids.max), holding the container's one process.
    expect(max).toBe('42');
    expect(procs).toBe('1');
    // A bind of the container's directory (its root is the cgroup's path, not "/"), read-only.
    expect(mount?.split(' ')[3]).toBe('/vm-userns-cg');
    expect(mount?.split(' ')[5]).toMatch(/^ro,/);
    expect(existsSync(join(CGROUP, 'vm-userns-cg')), 'run removes the cgroup').toBe(false);
  });

  it('memory.max OOM-kills a hog; memory.events counts it and `events` reports it', async () => {
    const out = start('vm-oom', 'while [ ! -e /out/go ]; do sleep 0.05; done; tail /dev/zero; sleep 1000', (c) => {
      // swap = limit: no swap at all, so the hog cannot escape to it.
      c.linux.resources.memory = { limit: 32 * MiB, swap: 32 * MiB };
    });
    expect(file('vm-oom', 'memory.max')).toBe(String(32 * MiB));
    expect(file('vm-oom', 'memory.swap.max')).toBe('0');

    const events = spawn(tsrunBin, ['--root', s.root, 'events', '--interval', '100ms', 'vm-oom'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let lines = '';
    events.stdout.on('data', (chunk: Buffer) => (lines += String(chunk)));
    await waitFor(() => lines.includes('"type":"stats"'));
    writeFileSync(join(out, 'go'), '');

    await waitFor(() => keyed('vm-oom', 'memory.events', 'oom_kill') >= 1);
    await waitFor(() => lines.includes('{"type":"oom","id":"vm-oom"}'));
    // The shell survives its child's death: only the hog was killed.
    expect(JSON.parse(s.tsrun(['state', 'vm-oom']).stdout).status).toBe('running');
    remove('vm-oom');
    await new Promise((resolve) => events.once('exit', resolve));
  });

  it('pids.max stops a fork bomb at the limit', async () => {
    start('vm-pids', 'i=0; while [ $i -lt 30 ]; do sleep 1000 & i=$((i+1)); done; sleep 1000', (c) => {
      c.linux.resources.pids = { limit: 8 };
    });
    expect(file('vm-pids', 'pids.max')).toBe('8');
    await waitFor(() => keyed('vm-pids', 'pids.events', 'max') >= 1);
    expect(Number(file('vm-pids', 'pids.current'))).toBeLessThanOrEqual(8);
    if (existsSync(join(CGROUP, 'vm-pids', 'pids.peak'))) expect(Number(file('vm-pids', 'pids.peak'))).toBe(8);
    remove('vm-pids');
  });

  it('cpu.max holds a busy loop near its quota', async () => {
    start('vm-cpu', 'while :; do :; done', (c) => {
      c.linux.resources.cpu = { quota: 20_000, period: 100_000 };
    });
    expect(file('vm-cpu', 'cpu.max')).toBe('20000 100000');
    await sleep(300);
    const usage = () => keyed('vm-cpu', 'cpu.stat', 'usage_usec');
    const [u0, t0] = [usage(), performance.now()];
    await sleep(2000);
    const share = (usage() - u0) / 1000 / (performance.now() - t0);
    expect(share).toBeGreaterThan(0.1);
    expect(share).toBeLessThan(0.3);
    expect(keyed('vm-cpu', 'cpu.stat', 'nr_throttled')).toBeGreaterThan(0);
    remove('vm-cpu');
  });

  it('writes the converted v1-shaped fields: shares → cpu.weight, blkio weight → io.weight, cpus, unified', () => {
    start('vm-conv', 'sleep 1000', (c) => {
      c.linux.resources.cpu = { shares: 512, cpus: '0' };
      c.linux.resources.blockIO = { weight: 500 };
      c.linux.resources.memory = { reservation: 8 * MiB };
      c.linux.resources.unified = { 'memory.high': String(48 * MiB) };
    });
    expect(file('vm-conv', 'cpu.weight')).toBe('59');
    expect(file('vm-conv', 'cpuset.cpus')).toBe('0');
    expect(file('vm-conv', 'memory.low')).toBe(String(8 * MiB));
    expect(file('vm-conv', 'memory.high')).toBe(String(48 * MiB));
    // No BFQ in this guest: the weight lands in io.weight, converted.
    const ioWeight = existsSync(join(CGROUP, 'vm-conv', 'io.bfq.weight')) ? file('vm-conv', 'io.bfq.weight') : file('vm-conv', 'io.weight');
    expect(ioWeight).toMatch(/^default (500|4950)$/);
    remove('vm-conv');
  });

  it('pause freezes the container: no CPU time while frozen', async () => {
    start('vm-freeze', 'while :; do :; done', () => {});
    expect(s.tsrun(['pause', 'vm-freeze']).status).toBe(0);
    expect(JSON.parse(s.tsrun(['state', 'vm-freeze']).stdout).status).toBe('paused');
    const usage = () => keyed('vm-freeze', 'cpu.stat', 'usage_usec');
    const before = usage();
    await sleep(500);
    expect(usage() - before).toBeLessThan(5000);
    expect(s.tsrun(['resume', 'vm-freeze']).status).toBe(0);
    await sleep(300);
    expect(usage() - before).toBeGreaterThan(50_000);
    remove('vm-freeze');
  });

  it('update changes the limits of a running container, and events --stats reports them', () => {
    start('vm-update', 'sleep 1000', (c) => {
      c.linux.resources.memory = { limit: 64 * MiB };
      c.linux.resources.pids = { limit: 20 };
    });
    const r = s.tsrun(['update', '--memory', '128m', '--cpu-quota', '50000', '--pids-limit', '5', 'vm-update']);
    expect(r.status, r.stderr).toBe(0);
    expect(file('vm-update', 'memory.max')).toBe(String(128 * MiB));
    expect(file('vm-update', 'cpu.max')).toBe('50000 100000');
    expect(file('vm-update', 'pids.max')).toBe('5');

    const stats = JSON.parse(s.tsrun(['events', '--stats', 'vm-update']).stdout);
    expect(stats.data.memory.usage.limit).toBe(128 * MiB);
    expect(stats.data.pids).toMatchObject({ current: 1, limit: 5 });

    // A second update starts from the first: the period stays, the quota goes back to "max".
    expect(s.tsrun(['update', '--cpu-quota', '-1', 'vm-update']).status).toBe(0);
    expect(file('vm-update', 'cpu.max')).toBe('max 100000');
    expect(file('vm-update', 'memory.max')).toBe(String(128 * MiB));

    // checkBeforeUpdate refuses a limit below what the container uses.
    const refused = s.tsrun(['update', '-r', '-', 'vm-update'], { input: JSON.stringify({ memory: { limit: 4096, checkBeforeUpdate: true } }) });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/linux\.resources\.memory\.limit: 4096 bytes is not above the container's current usage/);
    expect(file('vm-update', 'memory.max')).toBe(String(128 * MiB));
    remove('vm-update');
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  for (const started = Date.now(); !condition(); await sleep(20)) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
  }
}
