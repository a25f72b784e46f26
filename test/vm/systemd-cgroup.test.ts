import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cannotRunContainers, exampleRootfs, hasRunc, sandbox, tsrunBin, type ConfigObject, type Sandbox } from '../integration/support/harness.js';
import { skipUnlessRequired } from './skip-unless-required.js';

// The systemd cgroup driver against a real systemd: run in the guest booted
// with systemd as PID 1 (TSRUN_VM_INIT=systemd, see vitest.config.ts here).

const CGROUP = '/sys/fs/cgroup';
const MiB = 2 ** 20;

function whyNot(): string | undefined {
  const reason = cannotRunContainers();
  if (reason !== undefined) return reason;
  if (readFileSync('/proc/1/comm', 'utf8').trim() !== 'systemd') return 'systemd is not PID 1: run this in .ci/cgroup2-vm with TSRUN_VM_INIT=systemd';
  if (!existsSync(join(CGROUP, 'cgroup.controllers'))) return `${CGROUP} is not cgroup2`;
  return undefined;
}

const skip = skipUnlessRequired('systemd', 'test/vm/systemd-cgroup.test.ts', whyNot());

/** systemctl show's properties of a unit, as a map. */
function show(unit: string, ...properties: string[]): Map<string, string> {
  const r = spawnSync('systemctl', ['show', unit, ...properties.map((p) => `--property=${p}`)], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return new Map(
    r.stdout
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as [string, string]),
  );
}

const PROPERTIES = ['ActiveState', 'ControlGroup', 'Delegate', 'Slice', 'MemoryMax', 'TasksMax', 'CPUQuotaPerSecUSec', 'CPUWeight'];

describe.skipIf(skip !== undefined)('the systemd cgroup driver, with systemd as PID 1', () => {
  let s: Sandbox;
  beforeAll(() => {
    s = sandbox();
  });
  afterAll(() => s.cleanup());

  const limits = (c: ConfigObject) => {
    c.process.args = ['sleep', '1000'];
    c.linux.resources.memory = { limit: 64 * MiB };
    c.linux.resources.pids = { limit: 20 };
    c.linux.resources.cpu = { quota: 50000, period: 100000, shares: 2048 };
  };
  const file = (dir: string, name: string) => readFileSync(join(CGROUP, dir, name), 'utf8').trim();

  it('makes the container a transient scope of systemd, with its limits in the unit and in the cgroup, kept across daemon-reload, and gone at delete; as runc does', () => {
    const results = new Map<string, Map<string, string>>();
    const runtimes = [['tsrun', (args: string[]) => s.tsrun(['--systemd-cgroup', ...args])]] as [string, (args: string[]) => ReturnType<Sandbox['tsrun']>][];
    if (hasRunc) runtimes.push(['runc', (args: string[]) => s.runc(['--systemd-cgroup', ...args], { detached: args[0] === 'run' })]);
    else console.warn('runc not run for comparison: /usr/sbin/runc is missing');
    for (const [name, runtime] of runtimes) {
      const id = `sd-${name}`;
      const unit = `${name}-${id}.scope`;
      const dir = `system.slice/${unit}`;
      const bundle = s.bundle(id, (c) => {
        limits(c);
        c.linux.cgroupsPath = `system.slice:${name}:${id}`;
      });
      const r = runtime(['run', '-d', '--bundle', bundle, id]);
      expect(r.status, `${name}: ${r.stderr}`).toBe(0);
      const pid = Number(JSON.parse(runtime(['state', id]).stdout).pid);
      // The kernel puts the process where systemd says the unit is.
      expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), name).toBe(`0::/${dir}\n`);
      const before = show(unit, ...PROPERTIES);
      expect(before.get('ActiveState'), name).toBe('active');
      expect(before.get('ControlGroup'), name).toBe(`/${dir}`);
      expect(file(dir, 'memory.max'), name).toBe(String(64 * MiB));
      expect(file(dir, 'pids.max'), name).toBe('20');
      expect(file(dir, 'cpu.max'), name).toBe('50000 100000');
      // runc 1.1 and tsrun turn cpu.shares into a weight by different formulas (docs/cgroups.md):
      // each must tell systemd the weight it writes.
      const weight = file(dir, 'cpu.weight');
      expect(before.get('CPUWeight'), name).toBe(weight);
      // systemd writes a unit's limits again on daemon-reload: the container's must survive it.
      expect(spawnSync('systemctl', ['daemon-reload']).status).toBe(0);
      expect(file(dir, 'memory.max'), `${name} after daemon-reload`).toBe(String(64 * MiB));
      expect(file(dir, 'pids.max'), `${name} after daemon-reload`).toBe('20');
      expect(file(dir, 'cpu.max'), `${name} after daemon-reload`).toBe('50000 100000');
      expect(file(dir, 'cpu.weight'), `${name} after daemon-reload`).toBe(weight);
      results.set(name, before);

      const d = runtime(['delete', '--force', id]);
      expect(d.status, `${name}: ${d.stderr}`).toBe(0);
      expect(existsSync(join(CGROUP, dir)), `${name}: delete removes the cgroup`).toBe(false);
      expect(show(unit, 'ActiveState').get('ActiveState'), `${name}: the unit is gone`).toBe('inactive');
    }
    const tsrun = results.get('tsrun');
    const runc = results.get('runc');
    if (runc !== undefined && tsrun !== undefined) {
      for (const property of ['Delegate', 'Slice', 'MemoryMax', 'TasksMax', 'CPUQuotaPerSecUSec']) {
        expect(`${property}=${tsrun.get(property)}`).toBe(`${property}=${runc.get(property)}`);
      }
    }
  });

  it('update tells systemd the new limits: they are in the unit and survive daemon-reload', () => {
    const bundle = s.bundle('sd-update', (c) => {
      limits(c);
      c.linux.cgroupsPath = 'system.slice:tsrun:sd-update';
    });
    expect(s.tsrun(['--systemd-cgroup', 'run', '-d', '--bundle', bundle, 'sd-update']).status).toBe(0);
    const dir = 'system.slice/tsrun-sd-update.scope';
    const u = s.tsrun(['update', '--memory', String(128 * MiB), '--pids-limit', '30', 'sd-update']);
    expect(u.status, u.stderr).toBe(0);
    expect(show('tsrun-sd-update.scope', 'MemoryMax', 'TasksMax')).toEqual(
      new Map([
        ['MemoryMax', String(128 * MiB)],
        ['TasksMax', '30'],
      ]),
    );
    expect(spawnSync('systemctl', ['daemon-reload']).status).toBe(0);
    expect(file(dir, 'memory.max')).toBe(String(128 * MiB));
    expect(file(dir, 'pids.max')).toBe('30');
    expect(s.tsrun(['delete', '--force', 'sd-update']).status).toBe(0);
  });

  it('refuses a scope that systemd already runs, and leaves it and its process alone', () => {
    const bundle = s.bundle('sd-twice', (c) => {
      c.process.args = ['sleep', '1000'];
      c.linux.cgroupsPath = 'system.slice:tsrun:sd-twice';
    });
    expect(s.tsrun(['--systemd-cgroup', 'run', '-d', '--bundle', bundle, 'sd-twice']).status).toBe(0);
    const pid = s.pid('sd-twice');
    const again = s.tsrun(['--systemd-cgroup', 'run', '-d', '--bundle', bundle, 'sd-twice-2']);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toContain('tsrun-sd-twice.scope');
    expect(existsSync(join(s.root, 'sd-twice-2')), 'no state is left').toBe(false);
    expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toBe('0::/system.slice/tsrun-sd-twice.scope\n');
    expect(show('tsrun-sd-twice.scope', 'ActiveState').get('ActiveState')).toBe('active');
    expect(s.tsrun(['delete', '--force', 'sd-twice']).status, 'delete needs no --systemd-cgroup: state.json names the unit').toBe(0);
    expect(show('tsrun-sd-twice.scope', 'ActiveState').get('ActiveState')).toBe('inactive');
  });

  it('a container that exits leaves no unit behind, and delete after it is clean', () => {
    const bundle = s.bundle('sd-exit', (c) => {
      c.process.args = ['true'];
      c.linux.cgroupsPath = 'system.slice:tsrun:sd-exit';
    });
    const r = s.tsrun(['--systemd-cgroup', 'run', '--bundle', bundle, 'sd-exit']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(show('tsrun-sd-exit.scope', 'ActiveState').get('ActiveState')).toBe('inactive');
    expect(existsSync(join(CGROUP, 'system.slice/tsrun-sd-exit.scope'))).toBe(false);
  });
});

describe.skipIf(skip !== undefined)("the systemd cgroup driver for an unprivileged caller: the caller's user instance", () => {
  const USER = 'tsrun-sd';
  let uid: number;
  let gid: number;
  let dir: string;
  const runtimeDir = () => `/run/user/${uid}`;

  /** A command as the user, with the user instance's runtime directory, as a login session has it. */
  function asUser(command: string, args: readonly string[]): ReturnType<typeof spawnSync> & { stdout: string; stderr: string } {
    return spawnSync('setpriv', ['--reuid', String(uid), '--regid', String(gid), '--init-groups', command, ...args], {
      encoding: 'utf8',
      cwd: dir,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', XDG_RUNTIME_DIR: runtimeDir(), HOME: dir },
      timeout: 60_000,
    });
  }
  /**
   * A command of the user's, run by the user instance (in user@<uid>.service),
   * as a login session's would be: systemd moves a process into a scope only
   * from a cgroup the user may write.
   */
  const inSession = (script: string) => asUser('systemd-run', ['--user', '--pipe', '--wait', '--quiet', '--collect', `--setenv=PATH=${process.env['PATH'] ?? '/usr/bin:/bin'}`, 'sh', '-c', script]);
  const tsrun = (args: readonly string[]) => inSession(`exec ${tsrunBin} --root ${join(dir, 'state')} ${args.join(' ')}`);
  const userShow = (unit: string, property: string) => asUser('systemctl', ['--user', 'show', unit, `--property=${property}`, '--value']).stdout.trim();

  beforeAll(async () => {
    if (spawnSync('id', ['-u', USER]).status !== 0) expect(spawnSync('useradd', ['--create-home', '--user-group', USER]).status).toBe(0);
    uid = Number(spawnSync('id', ['-u', USER], { encoding: 'utf8' }).stdout.trim());
    gid = Number(spawnSync('id', ['-g', USER], { encoding: 'utf8' }).stdout.trim());
    const started = spawnSync('systemctl', ['start', `user@${uid}.service`], { encoding: 'utf8' });
    expect(started.status, started.stderr).toBe(0);
    for (let i = 0; i < 100 && !existsSync(`${runtimeDir()}/systemd/private`); i++) await new Promise((r) => setTimeout(r, 100));
    dir = mkdtempSync(join(tmpdir(), 'tsrun-sd-user-'));
    chmodSync(dir, 0o755);
    cpSync(exampleRootfs, join(dir, 'bundle/rootfs'), { recursive: true, verbatimSymlinks: true });
    spawnSync('chown', ['-R', `${uid}:${gid}`, dir]);
    const spec = asUser(tsrunBin, ['spec', '--rootless', '--bundle', join(dir, 'bundle')]);
    expect(spec.status, spec.stderr).toBe(0);
  });
  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    spawnSync('systemctl', ['stop', `user@${uid}.service`]);
  });

  it('asks the user instance for the scope: the container is its unit, below user@<uid>.service, with its limit; delete stops it', () => {
    const config = JSON.parse(readFileSync(join(dir, 'bundle/config.json'), 'utf8')) as ConfigObject;
    config.process.args = ['sleep', '1000'];
    config.process.terminal = false;
    config.linux.cgroupsPath = 'user.slice:tsrun:sd-rootless';
    config.linux.resources = { pids: { limit: 10 } };
    writeFileSync(join(dir, 'bundle/config.json'), JSON.stringify(config));
    const r = inSession(`exec ${tsrunBin} --root ${join(dir, 'state')} --systemd-cgroup run -d --bundle ${join(dir, 'bundle')} sd-rootless </dev/null >/dev/null 2>${join(dir, 'err')}`);
    expect(r.status, `${r.stderr}${existsSync(join(dir, 'err')) ? readFileSync(join(dir, 'err'), 'utf8') : ''}`).toBe(0);
    expect(readFileSync(join(dir, 'err'), 'utf8'), 'no warning: the user instance made the scope').toBe('');
    const pid = Number(JSON.parse(tsrun(['state', 'sd-rootless']).stdout).pid);
    const scope = `user.slice/user-${uid}.slice/user@${uid}.service/user.slice/tsrun-sd-rootless.scope`;
    expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toBe(`0::/${scope}\n`);
    expect(readFileSync(join(CGROUP, scope, 'pids.max'), 'utf8')).toBe('10\n');
    expect(userShow('tsrun-sd-rootless.scope', 'ActiveState')).toBe('active');
    expect(userShow('tsrun-sd-rootless.scope', 'TasksMax')).toBe('10');
    // Its /sys is the host's (no network namespace), so its "cgroup" mount is a bind of its own scope, as runc makes it.
    expect(tsrun(['exec', 'sd-rootless', 'cat', '/sys/fs/cgroup/pids.max']).stdout).toBe('10\n');
    const d = tsrun(['delete', '--force', 'sd-rootless']);
    expect(d.status, d.stderr).toBe(0);
    expect(existsSync(join(CGROUP, scope))).toBe(false);
    expect(userShow('tsrun-sd-rootless.scope', 'ActiveState')).toBe('inactive');
  });
});
