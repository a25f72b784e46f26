import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT, IMAGE, NAMES, startDockerd, type Engine } from '../integration/support/dockerd.js';
import { BOTH, type Runtime } from '../integration/support/engines.js';
import { exampleRootfs } from '../integration/support/harness.js';
import { skipUnlessRequired } from './skip-unless-required.js';
import { scopeLifecycle, succeeded } from './support/engine-scopes.js';

// dockerd with native.cgroupdriver=systemd, which passes --systemd-cgroup
// and "system.slice:docker:<id>" to the runtime: each operation with runc
// and with tsrun, in the guest booted with systemd as PID 1
// (TSRUN_VM_INIT=systemd, see vitest.config.ts here).

async function start(): Promise<Engine | string> {
  if (readFileSync('/proc/1/comm', 'utf8').trim() !== 'systemd') return 'systemd is not PID 1: run this in .ci/cgroup2-vm with TSRUN_VM_INIT=systemd';
  // dockerd's systemd driver reaches systemd through the system bus (the boot's target starts its socket).
  if (!existsSync('/run/dbus/system_bus_socket')) return 'no system bus at /run/dbus/system_bus_socket';
  return startDockerd({ cgroupDriver: 'systemd' });
}
const engine = await start();
const skip = skipUnlessRequired('systemd', 'test/vm/docker-systemd.test.ts', typeof engine === 'string' ? engine : undefined);

describe.skipIf(skip !== undefined)('dockerd with the systemd cgroup driver, tsrun beside runc', () => {
  const { socket, log } = engine as Engine;

  function docker(args: readonly string[]): SpawnSyncReturns<string> {
    return spawnSync(CLIENT, ['--host', `unix://${socket}`, ...args], { encoding: 'utf8', timeout: 120_000 });
  }
  beforeAll(() => {
    const imported = spawnSync('sh', ['-c', `tar -C ${exampleRootfs} -c . | ${CLIENT} --host unix://${socket} import - ${IMAGE}`], { encoding: 'utf8' });
    if (imported.status !== 0) throw new Error(`docker import: ${imported.stderr}`);
    expect(docker(['info', '--format', '{{.CgroupDriver}}']).stdout.trim()).toBe('systemd');
  });

  afterAll(() => {
    docker(['rm', '--force', ...BOTH.map((runtime) => `sd-${runtime}`)]);
    (engine as Engine).stop();
  });

  it('run --rm with --memory prints the same with both, and the engine logs no error', () => {
    const mark = log.mark();
    const out = (runtime: Runtime) =>
      succeeded(docker(['run', '--rm', '--network', 'none', '--runtime', NAMES[runtime], '--memory', '64m', IMAGE, 'sh', '-c', 'cat /sys/fs/cgroup/memory.max; echo done']), runtime);
    const runc = out('runc');
    expect(runc).toBe(`${64 * 2 ** 20}\ndone\n`);
    expect(out('tsrun')).toBe(runc);
    expect(log.errorsSince(mark)).toEqual([]);
  });

  it('run -d, exec, pause, unpause, stop, rm: the container is a docker scope of systemd while it runs, and no unit is left', () => {
    const mark = log.mark();
    for (const runtime of BOTH) scopeLifecycle(docker, { runtime: NAMES[runtime], image: IMAGE, name: `sd-${runtime}`, prefix: 'docker', slice: 'system.slice' });
    expect(log.errorsSince(mark)).toEqual([]);
  });
});
