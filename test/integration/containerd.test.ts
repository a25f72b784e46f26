import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOTH, both, EngineLog, pidsCgroup, removeCgroupParent, RUNTIMES, sleep, tick, TICKER, waitFor, type Runtime } from './support/engines.js';
import { exampleRootfs, skipReason } from './support/harness.js';

function reason(): string | undefined {
  const base = skipReason();
  if (base !== undefined) return base;
  for (const tool of ['containerd', 'ctr', 'containerd-shim-runc-v2']) {
    if (spawnSync('which', [tool]).status !== 0) {
      const why = `${tool} is not installed (.ci/install-deps.sh installs Debian's containerd)`;
      console.warn(`skipping containerd tests: ${why}`);
      return why;
    }
  }
  return undefined;
}

const skip = reason();
// The ctr namespace: the containers' cgroups are <namespace>/<id> under the
// caller's, and the test removes that parent at the end.
const NAMESPACE = 'tsrun-it';

// A private containerd (own socket, root and state; the shim's runtime state
// under --runc-root) so the test never touches a system instance. Each
// operation is done with runc and with tsrun (ctr's --runc-binary) in the
// same test, and what containerd reports must be the same.
describe.skipIf(skip !== undefined)('containerd drives tsrun like runc', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-containerd-'));
  const socket = join(dir, 'containerd.sock');
  // ctr --rootfs uses the directory as the container's writable root: a copy, not the project's.
  const rootfs = join(dir, 'rootfs');
  const log = new EngineLog(join(dir, 'containerd.log'));
  let daemon: ChildProcess | undefined;

  const ctr = (args: readonly string[]): SpawnSyncReturns<string> =>
    spawnSync('ctr', ['--address', socket, '--namespace', NAMESPACE, ...args], { encoding: 'utf8', timeout: 60_000 });

  /** ctr run with one runtime: its binary, its own state directory, the test's rootfs. */
  const run = (runtime: Runtime, flags: readonly string[], id: string, command: readonly string[]) =>
    ctr(['run', ...flags, '--runc-binary', RUNTIMES[runtime], '--runc-root', join(dir, `state-${runtime}`), '--rootfs', rootfs, id, ...command]);

  const taskLine = (id: string): { pid: number; status: string } | undefined => {
    const m = new RegExp(`^${id}\\s+(\\d+)\\s+(\\w+)`, 'm').exec(ctr(['task', 'ls']).stdout);
    return m === null ? undefined : { pid: Number(m[1]), status: m[2] as string };
  };

  const detached = (runtime: Runtime) => `ctr-bg-${runtime}`;

  beforeAll(async () => {
    cpSync(exampleRootfs, rootfs, { recursive: true, verbatimSymlinks: true });
    writeFileSync(join(dir, 'config.toml'), `version = 2\nroot = "${dir}/root"\nstate = "${dir}/state"\n[grpc]\n  address = "${socket}"\n`);
    const out = openSync(log.path, 'a');
    daemon = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: ['ignore', out, out] });
    await waitFor('containerd to answer on its socket', () => ctr(['version']).status === 0, 20_000);
  });

  afterAll(() => {
    // Tasks first, through the shims, so no container outlives the test.
    for (const id of ctr(['task', 'ls', '--quiet']).stdout.split('\n').filter(Boolean)) ctr(['task', 'delete', '--force', id]);
    for (const id of ctr(['container', 'ls', '--quiet']).stdout.split('\n').filter(Boolean)) ctr(['container', 'delete', id]);
    daemon?.kill('SIGTERM');
    // Shims carry the socket path in their arguments; a shim left behind holds the state open.
    spawnSync('sh', ['-c', `grep -l ${dir} /proc/*/cmdline 2>/dev/null | cut -d/ -f3 | xargs -r kill -9`]);
    rmSync(dir, { recursive: true, force: true });
    // Last: a parent still populated (a container that escaped the cleanup above) fails the file.
    removeCgroupParent(NAMESPACE);
  });

  it('run --rm: the same output and exit code with both', () => {
    const r = both((runtime) => run(runtime, ['--rm'], `ctr-rm-${runtime}`, ['/bin/sh', '-c', 'echo pid=$$ $(cat /proc/self/cgroup | grep -c :/tsrun-it/ctr-rm-); echo err >&2; exit 3']));
    expect(r.runc.status, r.runc.stderr).toBe(3);
    // pid 1 of its own pid namespace, in cgroups named after the container in every hierarchy.
    expect(r.runc.stdout).toMatch(/^pid=1 \d+\n$/);
    expect(r.tsrun.status, r.tsrun.stderr).toBe(3);
    expect(r.tsrun.stdout).toBe(r.runc.stdout);
    expect(r.tsrun.stderr).toBe(r.runc.stderr);
  });

  it('run -d then task exec: output and exit code of the exec\'d process', async () => {
    const mark = log.mark();
    const r = await Promise.all(
      BOTH.map(async (runtime) => {
        const started = run(runtime, ['-d'], detached(runtime), ['/bin/sh', '-c', TICKER]);
        expect(started.status, `${runtime}: ${started.stderr}`).toBe(0);
        await waitFor(`${runtime}'s ticker`, () => existsSync(`/proc/${taskLine(detached(runtime))?.pid}/root/dev/shm/tick`));
        // Absolute: a --rootfs container's spec has no PATH (runc finds nothing then; tsrun would search a default).
        return ctr(['task', 'exec', '--exec-id', 'probe', detached(runtime), '/bin/sh', '-c', 'echo "in $(cat /proc/1/comm), $(cat /proc/self/cgroup | grep -c :/tsrun-it/ctr-bg-)"; exit 4']);
      }),
    );
    const [runc, tsrun] = r as [SpawnSyncReturns<string>, SpawnSyncReturns<string>];
    expect(runc.status, runc.stderr).toBe(4);
    expect(runc.stdout).toMatch(/^in sh, \d+\n$/);
    expect(tsrun.status, tsrun.stderr).toBe(4);
    expect(tsrun.stdout).toBe(runc.stdout);
    expect(log.errorsSince(mark)).toEqual([]);
  });

  it('task metrics: the container\'s own cgroup (2 processes, its memory), as the kernel counts them', () => {
    const r = both((runtime) => {
      const id = detached(runtime);
      const metrics = ctr(['task', 'metrics', '--format', 'json', id]);
      expect(metrics.status, `${runtime}: ${metrics.stderr}`).toBe(0);
      const m = JSON.parse(metrics.stdout) as { pids: { current: number }; memory: { usage: { usage: number } } };
      const pids = pidsCgroup(taskLine(id)?.pid as number);
      return { pids: m.pids.current, kernelPids: Number(readFileSync(join(pids.dir, 'pids.current'), 'utf8')), memory: m.memory.usage.usage, path: pids.path };
    });
    for (const runtime of BOTH) {
      expect(r[runtime].path, runtime).toBe(`/${NAMESPACE}/${detached(runtime)}`);
      expect(r[runtime].pids, runtime).toBe(2);
      expect(r[runtime].kernelPids, runtime).toBe(2);
      // A shell and a sleep: far below what the host's cgroup holds.
      expect(r[runtime].memory, runtime).toBeGreaterThan(0);
      expect(r[runtime].memory, runtime).toBeLessThan(32 * 2 ** 20);
    }
  });

  it('pause freezes the processes (the ticker stands still) and resume thaws them', async () => {
    const mark = log.mark();
    for (const runtime of BOTH) {
      const id = detached(runtime);
      const pid = taskLine(id)?.pid as number;
      expect(ctr(['task', 'pause', id]).status, runtime).toBe(0);
      expect(taskLine(id)?.status, runtime).toBe('PAUSED');
      const frozen = tick(pid);
      await sleep(500);
      expect(tick(pid), `${runtime}: the ticker moved while paused`).toBe(frozen);
      expect(ctr(['task', 'resume', id]).status, runtime).toBe(0);
      expect(taskLine(id)?.status, runtime).toBe('RUNNING');
      await waitFor(`${runtime}'s ticker to move again`, () => tick(pid) > frozen, 3_000);
    }
    expect(log.errorsSince(mark)).toEqual([]);
  });

  it('kill: SIGTERM is ignored by a shell as pid 1, SIGKILL stops it, and delete reports 137 and removes its cgroup', async () => {
    const mark = log.mark();
    const r = await Promise.all(
      BOTH.map(async (runtime) => {
        const id = detached(runtime);
        const pid = taskLine(id)?.pid as number;
        const cgroup = pidsCgroup(pid).dir;
        expect(ctr(['task', 'kill', '--signal', 'SIGTERM', id]).status, runtime).toBe(0);
        await sleep(300);
        const afterTerm = taskLine(id)?.status;
        expect(ctr(['task', 'kill', '--signal', 'SIGKILL', id]).status, runtime).toBe(0);
        await waitFor(`${runtime}'s task to stop`, () => taskLine(id)?.status === 'STOPPED');
        const deleted = ctr(['task', 'delete', id]);
        const removed = ctr(['container', 'delete', id]);
        return {
          afterTerm,
          deleted: deleted.status,
          exitNote: /exit code (\d+)/.exec(deleted.stderr)?.[1],
          removed: removed.status,
          alive: existsSync(`/proc/${pid}`),
          cgroup: existsSync(cgroup),
          state: readdirSync(join(dir, `state-${runtime}`), { recursive: true }).filter((e) => String(e).includes(id)).length,
        };
      }),
    );
    expect(r[0]).toEqual({ afterTerm: 'RUNNING', deleted: 0, exitNote: '137', removed: 0, alive: false, cgroup: false, state: 0 });
    expect(r[1]).toEqual(r[0]);
    expect(ctr(['container', 'ls', '--quiet']).stdout).toBe('');
    expect(log.errorsSince(mark)).toEqual([]);
  });
});
