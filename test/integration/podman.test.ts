import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOTH, sleep, tick, TICKER, waitFor } from './support/engines.js';
import { podmanStore } from './support/podman-store.js';
import { exampleRootfs, repoRoot, skipReason, tsrunBin } from './support/harness.js';

// podman drives tsrun exactly as it drives runc, and each operation is run
// with both in the same test: the engine is the judge. podman keeps its
// state in a directory of this test's own (vfs storage: no mounts to leave
// behind), with its default configuration but for the one setting this
// machine kind needs (it cannot raise podman's default rlimits: no
// CAP_SYS_RESOURCE).

function whyNot(): string | undefined {
  const reason = skipReason();
  if (reason !== undefined) return reason;
  if (spawnSync('podman', ['--version']).status !== 0) return 'podman is not installed (.ci/install-deps.sh installs it)';
  return undefined;
}
const skip = whyNot();
if (skip !== undefined) console.warn(`skipping the podman tests: ${skip}`);

const RUNTIMES = { runc: '/usr/sbin/runc', tsrun: tsrunBin } as const;
type Runtime = keyof typeof RUNTIMES;
const IMAGE = 'localhost/tsrun-busybox:test';
/** A person at a terminal of 30 rows by 100 columns. */
const driver = join(repoRoot, 'test/integration/support/pty-driver.py');

describe.skipIf(skip !== undefined)('podman with tsrun as its runtime, beside runc', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;

  /** podman's flags for this test's own state. */
  let flags: readonly string[] = [];
  const storage = () => flags;

  function podman(args: readonly string[], options: { timeout?: number } = {}): SpawnSyncReturns<string> {
    return spawnSync('podman', [...storage(), ...args], {
      encoding: 'utf8',
      env,
      // conmon leaves a file "oom" in its working directory when a container is OOM-killed.
      cwd: dir,
      timeout: options.timeout ?? 60_000,
    });
  }

  function run(runtime: Runtime, args: readonly string[]): SpawnSyncReturns<string> {
    return podman(['run', '--rm', '--runtime', RUNTIMES[runtime], ...args]);
  }

  /** The same podman run with each runtime: what the container printed and how it exited. */
  function both(args: readonly string[]): Record<Runtime, { status: number | null; stdout: string; stderr: string }> {
    const result = (runtime: Runtime) => {
      const r = run(runtime, args);
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    return { runc: result('runc'), tsrun: result('tsrun') };
  }

  beforeAll(() => {
    ({ dir, env, flags } = podmanStore('tsrun-podman-', IMAGE));
  });

  afterAll(() => {
    podman(['rm', '--all', '--force']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('run --rm with podman\'s default settings (pids limit included) prints the same with both', () => {
    const r = both([IMAGE, 'echo', 'ok']);
    expect(r.runc.stdout, r.runc.stderr).toBe('ok\n');
    expect(r.tsrun.status, r.tsrun.stderr).toBe(0);
    expect(r.tsrun.stdout).toBe('ok\n');
  });

  it('--memory 64m --pids-limit 50 --cpus 0.5 reach the container\'s own cgroups, as the container sees them', () => {
    const script = 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us';
    const r = both(['--memory', '64m', '--pids-limit', '50', '--cpus', '0.5', IMAGE, 'sh', '-c', script]);
    expect(r.runc.stdout, r.runc.stderr).toBe(`${64 * 2 ** 20}\n50\n50000\n100000\n`);
    expect(r.tsrun.status, r.tsrun.stderr).toBe(0);
    expect(r.tsrun.stdout).toBe(r.runc.stdout);
  });

  it('--memory is enforced: a hog is OOM-killed with both', () => {
    // The hog volunteers as the OOM killer's victim: left to choose, the kernel now and then took the shell.
    // Even so, a loaded machine once gave runc no output at all (a fresh-clone run beside a qemu
    // guest): as in docker.test.ts, up to three tries of the pair, both judged in the same try.
    const once = () => both(['--memory', '32m', '--memory-swap', '32m', IMAGE, 'sh', '-c', 'head -c 100m /dev/zero | sh -c "echo 1000 > /proc/self/oom_score_adj && exec tail"; echo "hog=$?"']);
    let r = once();
    for (let attempt = 1; attempt < 3 && (r.runc.stdout !== 'hog=137\n' || r.tsrun.stdout !== 'hog=137\n'); attempt += 1) {
      console.warn(`podman --memory, try ${attempt}: runc ${JSON.stringify(r.runc)}, tsrun ${JSON.stringify(r.tsrun)}; trying again`);
      r = once();
    }
    expect(r.runc.stdout, r.runc.stderr).toBe('hog=137\n');
    expect(r.tsrun.stdout, r.tsrun.stderr).toBe('hog=137\n');
  });

  it('--pids-limit is enforced: a fork loop stops at the limit with both', () => {
    const r = both(['--pids-limit', '5', IMAGE, 'sh', '-c', 'for i in $(seq 1 10); do sleep 5 & done']);
    for (const runtime of ['runc', 'tsrun'] as const) {
      expect(r[runtime].status, runtime).not.toBe(0);
      expect(r[runtime].stderr, runtime).toMatch(/can't fork/);
    }
  });

  it('--cpus is enforced: a busy loop gets about its share of a CPU', () => {
    // cpuacct.usage seen from inside, over a second of wall time, in ns.
    const script = 'while :; do :; done & a=$(cat /sys/fs/cgroup/cpuacct/cpuacct.usage); sleep 1; b=$(cat /sys/fs/cgroup/cpuacct/cpuacct.usage); echo $((b - a))';
    const r = both(['--cpus', '0.2', IMAGE, 'sh', '-c', script]);
    for (const runtime of ['runc', 'tsrun'] as const) {
      expect(r[runtime].status, `${runtime}: ${r[runtime].stderr}`).toBe(0);
      const used = Number(r[runtime].stdout.trim());
      expect(used, runtime).toBeGreaterThan(0);
      expect(used / 1e9, runtime).toBeLessThan(0.3);
    }
  });

  it('--privileged runs with every capability and the host\'s devices (their fileMode carries the file type bits)', () => {
    const r = both(['--privileged', IMAGE, 'sh', '-c', 'grep CapEff /proc/self/status; ls -l /dev/kmsg | cut -c1']);
    expect(r.runc.status, r.runc.stderr).toBe(0);
    expect(r.tsrun.status, r.tsrun.stderr).toBe(0);
    expect(r.tsrun.stdout).toBe(r.runc.stdout);
    expect(r.tsrun.stdout).toMatch(/\nc\n$/);
  });

  it('a command that is missing, or not executable, exits 127 or 126 with both, and says so in runc\'s words', () => {
    // runc fails create; tsrun's process says it at start (docs/process.md): podman exits the same.
    for (const [command, code] of [['nosuchcmd', 127], ['/nosuch', 127], ['/etc/passwd', 126]] as const) {
      const r = both([IMAGE, command]);
      expect(r.runc.status, `runc ${command}`).toBe(code);
      expect(r.tsrun.status, `tsrun ${command}: ${r.tsrun.stderr}`).toBe(code);
      for (const runtime of ['runc', 'tsrun'] as const) expect(r[runtime].stderr, runtime).toContain(`exec: "${command}": `);
    }
  });

  it('--uidmap/--gidmap: the container runs in a user namespace mapped as asked, the same with both', () => {
    const r = both(['--uidmap', '0:100000:65536', '--gidmap', '0:100000:65536', IMAGE, 'sh', '-c', 'id -u; cat /proc/self/uid_map /proc/self/gid_map']);
    expect(r.runc.status, r.runc.stderr).toBe(0);
    expect(r.runc.stdout.split('\n').map((l) => l.trim().split(/\s+/).join(' '))).toEqual(['0', '0 100000 65536', '0 100000 65536', '']);
    expect({ status: r.tsrun.status, stdout: r.tsrun.stdout }, r.tsrun.stderr).toEqual({ status: 0, stdout: r.runc.stdout });
  });

  it('--read-only: the root is read-only, and /run, /tmp, /var/tmp are tmpfs copies of the image\'s (tmpcopyup) with both', () => {
    // An image whose /var/tmp and /run hold something to copy.
    const image = 'localhost/tsrun-busybox-seeded:test';
    const rootfs = join(dir, 'seeded');
    cpSync(exampleRootfs, rootfs, { recursive: true, verbatimSymlinks: true });
    writeFileSync(join(rootfs, 'var/tmp/seed'), 'seeded\n');
    chmodSync(join(rootfs, 'var/tmp/seed'), 0o640);
    mkdirSync(join(rootfs, 'run/lock'), { mode: 0o750 });
    const tar = spawnSync('sh', ['-c', `tar -C ${rootfs} -c . | podman ${flags.join(' ')} import - ${image}`], { encoding: 'utf8', env });
    expect(tar.status, tar.stderr).toBe(0);
    const script = [
      'stat -c "%n %a %u:%g" /run /run/lock /tmp /var/tmp /var/tmp/seed',
      'cat /var/tmp/seed',
      'touch /run/a /tmp/b /var/tmp/c && echo tmpfs writable',
      'touch /etc/x 2>/dev/null || echo root read-only',
      // podman's order of its mounts varies from run to run.
      'grep -E " /(run|tmp|var/tmp) " /proc/self/mountinfo | cut -d" " -f5,9 | sort',
    ].join('; ');
    const r = both(['--read-only', image, 'sh', '-c', script]);
    expect(r.runc.status, r.runc.stderr).toBe(0);
    expect(r.runc.stdout).toBe(
      [
        '/run 755 0:0',
        '/run/lock 750 0:0',
        '/tmp 1777 0:0',
        '/var/tmp 1777 0:0',
        '/var/tmp/seed 640 0:0',
        'seeded',
        'tmpfs writable',
        'root read-only',
        '/run tmpfs',
        '/tmp tmpfs',
        '/var/tmp tmpfs',
        '',
      ].join('\n'),
    );
    expect(r.tsrun.status, r.tsrun.stderr).toBe(0);
    expect(r.tsrun.stdout).toBe(r.runc.stdout);
  });

  it('run -d, exec, stop and rm work the same way', () => {
    for (const runtime of ['runc', 'tsrun'] as const) {
      const name = `tsrun-podman-${runtime}`;
      const started = podman(['run', '-d', '--name', name, '--runtime', RUNTIMES[runtime], IMAGE, 'sleep', '1000']);
      expect(started.status, `${runtime}: ${started.stderr}`).toBe(0);
      const exec = podman(['exec', name, 'sh', '-c', 'echo in-$(hostname | cut -c1-3)']);
      expect(exec.status, `${runtime}: ${exec.stderr}`).toBe(0);
      expect(exec.stdout).toMatch(/^in-/);
      const stopped = podman(['stop', '--time', '1', name]);
      expect(stopped.status, `${runtime}: ${stopped.stderr}`).toBe(0);
      const removed = podman(['rm', name]);
      expect(removed.status, `${runtime}: ${removed.stderr}`).toBe(0);
    }
  });

  it('run -d, logs, top, pause (the ticker stands still), unpause, stats: the same with both', async () => {
    const seen = await Promise.all(
      BOTH.map(async (runtime) => {
        const name = `tsrun-podman-ops-${runtime}`;
        const started = podman(['run', '-d', '--name', name, '--runtime', RUNTIMES[runtime], '--memory', '64m', IMAGE, 'sh', '-c', `echo started; ${TICKER}`]);
        expect(started.status, `${runtime}: ${started.stderr}`).toBe(0);
        const pid = Number(podman(['inspect', '--format', '{{.State.Pid}}', name]).stdout.trim());
        await waitFor(`${runtime}'s ticker`, () => existsSync(`/proc/${pid}/root/dev/shm/tick`));
        const logs = podman(['logs', name]).stdout;
        const top = podman(['top', name, 'args']).stdout.split('\n').slice(1).filter(Boolean).map((l) => l.trim());
        expect(podman(['pause', name]).status, runtime).toBe(0);
        const paused = podman(['inspect', '--format', '{{.State.Status}}', name]).stdout.trim();
        const frozen = tick(pid);
        await sleep(500);
        const stood = tick(pid) === frozen;
        expect(podman(['unpause', name]).status, runtime).toBe(0);
        await waitFor(`${runtime}'s ticker to move again`, () => tick(pid) > frozen, 3_000);
        const stats = podman(['stats', '--no-stream', '--format', '{{.PIDs}}|{{.MemUsage}}', name]);
        expect(stats.status, `${runtime}: ${stats.stderr}`).toBe(0);
        const [processes, memory = ''] = stats.stdout.trim().split('|');
        expect(podman(['rm', '--force', name]).status, runtime).toBe(0);
        return { logs, top, paused, stood, processes, limit: memory.split(' / ')[1] };
      }),
    );
    const [runc, tsrun] = seen;
    expect(runc).toEqual({ logs: 'started\n', top: [`sh -c echo started; ${TICKER}`, 'sleep 1000'], paused: 'paused', stood: true, processes: '2', limit: '67.11MB' });
    expect(tsrun).toEqual(runc);
  });

  it('run -it through a pty: the process has the terminal, its window size and its exit code, with both', () => {
    const [runc, tsrun] = BOTH.map((runtime) =>
      spawnSync('python3', [driver, '--', 'podman', ...storage(), 'run', '-it', '--rm', '--runtime', RUNTIMES[runtime], IMAGE, 'sh', '-c', 'stty size; tty; exit 4'], { encoding: 'utf8', env, cwd: dir, timeout: 60_000 }),
    ) as [SpawnSyncReturns<string>, SpawnSyncReturns<string>];
    expect(runc.stdout, runc.stderr).toMatch(/^30 100\s*\n\/dev\/pts\/0\s*\nexit=4/);
    expect(tsrun.stdout, tsrun.stderr).toBe(runc.stdout);
  });

  it('exec -it: the process sees the caller\'s window size from its first instruction, every time, with both', () => {
    // podman 4.3 sends no consoleSize: conmon sizes the pty once the runtime
    // has handed it the master, so the master must reach it before the process runs.
    for (const runtime of ['runc', 'tsrun'] as const) {
      const name = `tsrun-podman-tty-${runtime}`;
      const started = podman(['run', '-d', '--name', name, '--runtime', RUNTIMES[runtime], IMAGE, 'sleep', '1000']);
      expect(started.status, `${runtime}: ${started.stderr}`).toBe(0);
      for (let i = 0; i < 6; i += 1) {
        const r = spawnSync('python3', [driver, '--', 'podman', ...storage(), 'exec', '-it', name, 'stty', 'size'], { encoding: 'utf8', env, cwd: dir, timeout: 60_000 });
        expect(r.stdout, `${runtime}, try ${i}: ${r.stderr}`).toMatch(/^30 100\s*\nexit=0/);
      }
      expect(podman(['rm', '--force', name]).status).toBe(0);
    }
  });
});
