import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOTH, EngineLog, RUNTIMES, waitFor, type Runtime } from '../integration/support/engines.js';
import { cannotRunContainers, exampleRootfs } from '../integration/support/harness.js';
import { skipUnlessRequired } from './skip-unless-required.js';
import { succeeded, unitProperty } from './support/engine-scopes.js';

// containerd's runc shim with SystemdCgroup (ctr's --runc-systemd-cgroup,
// what the CRI's SystemdCgroup = true sets), which passes --systemd-cgroup
// to the runtime: each operation with runc and with tsrun, in the guest
// booted with systemd as PID 1 (TSRUN_VM_INIT=systemd, see vitest.config.ts here).

function whyNot(): string | undefined {
  const reason = cannotRunContainers();
  if (reason !== undefined) return reason;
  if (readFileSync('/proc/1/comm', 'utf8').trim() !== 'systemd') return 'systemd is not PID 1: run this in .ci/cgroup2-vm with TSRUN_VM_INIT=systemd';
  if (spawnSync('which', ['containerd', 'ctr']).status !== 0) return "containerd is not installed (.ci/install-deps.sh installs Debian's containerd)";
  return undefined;
}
const skip = skipUnlessRequired('systemd', 'test/vm/containerd-systemd.test.ts', whyNot());
const MiB = 2 ** 20;

describe.skipIf(skip !== undefined)('containerd with SystemdCgroup, tsrun beside runc', () => {
  let dir: string;
  let socket: string;
  let log: EngineLog;
  let daemon: ChildProcess | undefined;

  const ctr = (args: readonly string[]): SpawnSyncReturns<string> =>
    spawnSync('ctr', ['--address', socket, '--namespace', 'tsrun-it', ...args], { encoding: 'utf8', timeout: 120_000 });
  /** ctr run with one runtime and the systemd driver: the container's unit is ctr-<id>.scope in system.slice. */
  const run = (runtime: Runtime, flags: readonly string[], id: string, command: readonly string[]) =>
    ctr([
      'run', ...flags,
      '--runc-binary', RUNTIMES[runtime], '--runc-root', join(dir, `state-${runtime}`), '--runc-systemd-cgroup',
      '--cgroup', `system.slice:ctr:${id}`, '--memory-limit', String(64 * MiB),
      '--rootfs', join(dir, 'rootfs'), id, ...command,
    ]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsrun-containerd-sd-'));
    socket = join(dir, 'containerd.sock');
    log = new EngineLog(join(dir, 'containerd.log'));
    cpSync(exampleRootfs, join(dir, 'rootfs'), { recursive: true, verbatimSymlinks: true });
    writeFileSync(join(dir, 'config.toml'), `version = 2\nroot = "${dir}/root"\nstate = "${dir}/state"\n[grpc]\n  address = "${socket}"\n`);
    const out = openSync(log.path, 'a');
    daemon = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: ['ignore', out, out] });
    await waitFor('containerd to answer on its socket', () => ctr(['version']).status === 0, 60_000);
  });

  afterAll(() => {
    if (dir === undefined) return;
    for (const id of ctr(['task', 'ls', '--quiet']).stdout.split('\n').filter(Boolean)) ctr(['task', 'delete', '--force', id]);
    for (const id of ctr(['container', 'ls', '--quiet']).stdout.split('\n').filter(Boolean)) ctr(['container', 'delete', id]);
    daemon?.kill('SIGTERM');
    spawnSync('sh', ['-c', `grep -l ${dir} /proc/*/cmdline 2>/dev/null | cut -d/ -f3 | xargs -r kill -9`]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('run --rm: the same output and exit code with both, in the scope systemd made', () => {
    // One id for both, in turn: ctr's containers share the host's cgroup namespace, and see their own path.
    const out = (runtime: Runtime) => {
      const r = run(runtime, ['--rm'], 'ctr-rm', ['/bin/sh', '-c', 'cut -d: -f3 /proc/self/cgroup; exit 3']);
      expect(r.status, `${runtime}: ${r.stderr}`).toBe(3);
      return r.stdout;
    };
    const runc = out('runc');
    expect(runc).toBe('/system.slice/ctr-ctr-rm.scope\n');
    expect(out('tsrun')).toBe(runc);
  });

  it('run -d, task exec, pause, resume, kill, delete: a scope of systemd while it runs, and no unit left', async () => {
    const mark = log.mark();
    for (const runtime of BOTH) {
      const id = `ctr-bg-${runtime}`;
      const unit = `ctr-${id}.scope`;
      // Absolute: a --rootfs container's spec has no PATH.
      succeeded(run(runtime, ['-d'], id, ['/bin/sleep', '1000']), `${runtime} run -d`);
      expect(unitProperty(unit, 'ActiveState'), runtime).toBe('active');
      expect(unitProperty(unit, 'Delegate'), runtime).toBe('yes');
      expect(unitProperty(unit, 'MemoryMax'), runtime).toBe(String(64 * MiB));
      expect(readFileSync(`/sys/fs/cgroup/system.slice/${unit}/memory.max`, 'utf8'), runtime).toBe(`${64 * MiB}\n`);
      const pid = Number(/^\S+\s+(\d+)/m.exec(ctr(['task', 'ls']).stdout.split('\n').find((l) => l.startsWith(id)) ?? '')?.[1]);
      expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), runtime).toBe(`0::/system.slice/${unit}\n`);
      expect(succeeded(ctr(['task', 'exec', '--exec-id', 'probe', id, '/bin/echo', 'in']), `${runtime} exec`)).toBe('in\n');
      succeeded(ctr(['task', 'pause', id]), `${runtime} pause`);
      expect(readFileSync(`/sys/fs/cgroup/system.slice/${unit}/cgroup.freeze`, 'utf8'), runtime).toBe('1\n');
      succeeded(ctr(['task', 'resume', id]), `${runtime} resume`);
      succeeded(ctr(['task', 'kill', '--signal', 'SIGKILL', id]), `${runtime} kill`);
      await waitFor(`${runtime}'s task to stop`, () => /STOPPED/.test(ctr(['task', 'ls']).stdout.split('\n').find((l) => l.startsWith(id)) ?? ''));
      succeeded(ctr(['task', 'delete', id]), `${runtime} task delete`);
      succeeded(ctr(['container', 'delete', id]), `${runtime} container delete`);
      expect(unitProperty(unit, 'ActiveState'), `${runtime}: the unit is gone`).toBe('inactive');
      expect(existsSync(`/sys/fs/cgroup/system.slice/${unit}`), `${runtime}: the cgroup is gone`).toBe(false);
    }
    expect(log.errorsSince(mark)).toEqual([]);
  });
});
