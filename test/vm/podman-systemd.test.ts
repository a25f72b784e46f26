import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOTH, RUNTIMES, type Runtime } from '../integration/support/engines.js';
import { cannotRunContainers } from '../integration/support/harness.js';
import { podmanStore, type PodmanStore } from '../integration/support/podman-store.js';
import { skipUnlessRequired } from './skip-unless-required.js';
import { scopeLifecycle, succeeded } from './support/engine-scopes.js';

// podman with its systemd cgroup manager (the default on a systemd host),
// which passes --systemd-cgroup and "machine.slice:libpod:<id>" to the
// runtime: each operation with runc and with tsrun, in the guest booted
// with systemd as PID 1 (TSRUN_VM_INIT=systemd, see vitest.config.ts here).

function whyNot(): string | undefined {
  const reason = cannotRunContainers();
  if (reason !== undefined) return reason;
  if (readFileSync('/proc/1/comm', 'utf8').trim() !== 'systemd') return 'systemd is not PID 1: run this in .ci/cgroup2-vm with TSRUN_VM_INIT=systemd';
  if (spawnSync('podman', ['--version']).status !== 0) return 'podman is not installed (.ci/install-deps.sh installs it)';
  // podman reaches systemd through the system bus (the boot's target starts its socket).
  if (!existsSync('/run/dbus/system_bus_socket')) return 'no system bus at /run/dbus/system_bus_socket';
  return undefined;
}

const skip = skipUnlessRequired('systemd', 'test/vm/podman-systemd.test.ts', whyNot());
const IMAGE = 'localhost/tsrun-busybox:test';

describe.skipIf(skip !== undefined)('podman with the systemd cgroup manager, tsrun beside runc', () => {
  let store: PodmanStore | undefined;

  function podman(args: readonly string[]): SpawnSyncReturns<string> {
    const { dir, env, flags } = store as PodmanStore;
    return spawnSync('podman', [...flags, '--cgroup-manager', 'systemd', ...args], { encoding: 'utf8', env, cwd: dir, timeout: 120_000 });
  }
  beforeAll(() => {
    store = podmanStore('tsrun-podman-sd-', IMAGE);
  });

  afterAll(() => {
    if (store === undefined) return;
    podman(['rm', '--all', '--force']);
    rmSync(store.dir, { recursive: true, force: true });
  });

  it('run --rm with --memory and --pids-limit: the same output, the limits in the container\'s cgroup', () => {
    const script = 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; echo done';
    const out = (runtime: Runtime) =>
      succeeded(podman(['run', '--rm', '--network', 'none', '--runtime', RUNTIMES[runtime], '--memory', '64m', '--pids-limit', '30', IMAGE, 'sh', '-c', script]), runtime);
    const runc = out('runc');
    expect(runc).toBe(`${64 * 2 ** 20}\n30\ndone\n`);
    expect(out('tsrun')).toBe(runc);
  });

  it('run -d, exec, pause, unpause, stop, rm: the container is a libpod scope of systemd while it runs, and no unit is left', () => {
    for (const runtime of BOTH) scopeLifecycle(podman, { runtime: RUNTIMES[runtime], image: IMAGE, name: `sd-${runtime}`, prefix: 'libpod', slice: 'machine.slice' });
  });
});
