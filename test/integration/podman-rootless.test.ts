import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleRootfs, skipReason, tsrunBin } from './support/harness.js';

// Rootless podman: an unprivileged user's podman runs the runtime as root of
// the user's own user namespace. tsrun must then act as runc does there: take
// its state root from XDG_RUNTIME_DIR, leave cgroups it may not make alone,
// bind device nodes rather than mknod them, and enter pid namespaces without
// returning to the host's. The test makes a user of its own (subordinate ids
// from useradd), with podman's storage in a temporary directory it owns.

const USER = 'tsrun-rootless';

function whyNot(): string | undefined {
  const reason = skipReason();
  if (reason !== undefined) return reason;
  if (spawnSync('podman', ['--version']).status !== 0) return 'podman is not installed (.ci/install-deps.sh installs it)';
  if (spawnSync('newuidmap', ['--help']).error !== undefined) return 'newuidmap is missing (the uidmap package; .ci/install-deps.sh installs it)';
  return undefined;
}
const skip = whyNot();
if (skip !== undefined) console.warn(`skipping the rootless podman tests: ${skip}`);

const RUNTIMES = { runc: '/usr/sbin/runc', tsrun: tsrunBin } as const;
type Runtime = keyof typeof RUNTIMES;
const IMAGE = 'localhost/tsrun-busybox:test';

describe.skipIf(skip !== undefined)('rootless podman with tsrun as its runtime, beside runc', () => {
  let dir: string;
  let uid: number;
  let runtimeDir: string;

  /** podman as the test's user, with its storage under `dir` and no network (rootless needs slirp4netns for one). */
  function podman(args: readonly string[], input?: string): SpawnSyncReturns<string> {
    const env = [`XDG_RUNTIME_DIR=${runtimeDir}`, `HOME=${dir}`, `CONTAINERS_CONF=${join(dir, 'containers.conf')}`, 'PATH=/usr/sbin:/usr/bin:/sbin:/bin'];
    const storage = ['--root', join(dir, 'storage'), '--runroot', join(runtimeDir, 'containers'), '--storage-driver', 'vfs'];
    return spawnSync('runuser', ['-u', USER, '--', 'env', '-i', ...env, 'podman', ...storage, ...args], {
      encoding: 'utf8',
      cwd: dir,
      timeout: 60_000,
      ...(input === undefined ? {} : { input }),
    });
  }

  beforeAll(() => {
    if (spawnSync('id', ['-u', USER]).status !== 0) {
      const add = spawnSync('useradd', ['--create-home', '--shell', '/bin/sh', USER], { encoding: 'utf8' });
      if (add.status !== 0) throw new Error(`useradd ${USER}: ${add.stderr}`);
    }
    uid = Number(spawnSync('id', ['-u', USER], { encoding: 'utf8' }).stdout.trim());
    dir = mkdtempSync(join(tmpdir(), 'tsrun-rootless-'));
    chmodSync(dir, 0o755);
    chownSync(dir, uid, uid);
    runtimeDir = join(dir, 'run');
    mkdirSync(runtimeDir, { mode: 0o700 });
    chownSync(runtimeDir, uid, uid);
    // The one setting this machine kind needs (podman cannot raise its default rlimits here).
    writeFileSync(join(dir, 'containers.conf'), '[containers]\ndefault_ulimits = []\n');
    const tar = spawnSync('tar', ['-C', exampleRootfs, '-c', '.'], { maxBuffer: 64 * 2 ** 20 });
    const imported = spawnSync('runuser', ['-u', USER, '--', 'true']).status === 0 ? podmanImport(tar.stdout) : undefined;
    if (imported?.status !== 0) throw new Error(`podman import: ${imported?.stderr ?? 'runuser failed'}`);
  });

  function podmanImport(tar: Buffer): SpawnSyncReturns<string> {
    const env = [`XDG_RUNTIME_DIR=${runtimeDir}`, `HOME=${dir}`, `CONTAINERS_CONF=${join(dir, 'containers.conf')}`, 'PATH=/usr/sbin:/usr/bin:/sbin:/bin'];
    const storage = ['--root', join(dir, 'storage'), '--runroot', join(runtimeDir, 'containers'), '--storage-driver', 'vfs'];
    return spawnSync('runuser', ['-u', USER, '--', 'env', '-i', ...env, 'podman', ...storage, 'import', '-', IMAGE], { input: tar, encoding: 'utf8', cwd: dir, timeout: 60_000 });
  }

  afterAll(() => {
    if (dir === undefined) return;
    for (const runtime of Object.keys(RUNTIMES)) podman(['rm', '--force', `rootless-${runtime}`]);
    // podman's storage holds files of the user's subordinate ids: remove it as that user, in its namespace.
    podman(['system', 'reset', '--force']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('run --rm works as with runc: root of the user\'s namespace, the same id map, the same exit status', () => {
    const out: Record<string, { status: number | null; stdout: string }> = {};
    for (const runtime of Object.keys(RUNTIMES) as Runtime[]) {
      const r = podman(['run', '--rm', '--network', 'none', '--runtime', RUNTIMES[runtime], IMAGE, 'sh', '-c', 'id -u; cat /proc/self/uid_map; exit 3']);
      out[runtime] = { status: r.status, stdout: r.stdout };
      expect(r.stderr, runtime).not.toMatch(/level=error/);
    }
    expect(out['tsrun']).toEqual(out['runc']);
    expect(out['tsrun']?.status).toBe(3);
    const [id, first] = (out['tsrun']?.stdout ?? '').trim().split('\n');
    expect(id).toBe('0');
    // Root inside is the user itself, as podman maps it.
    expect(first?.trim().split(/\s+/)).toEqual(['0', String(uid), '1']);
  });

  it('run -d, exec, stop and rm work the same way, with tsrun\'s state under the user\'s XDG_RUNTIME_DIR', () => {
    for (const runtime of Object.keys(RUNTIMES) as Runtime[]) {
      const name = `rootless-${runtime}`;
      const run = podman(['run', '-d', '--name', name, '--network', 'none', '--runtime', RUNTIMES[runtime], IMAGE, 'sleep', '100']);
      expect(run.status, `${runtime} run -d: ${run.stderr}`).toBe(0);
      if (runtime === 'tsrun') expect(existsSync(join(runtimeDir, 'tsrun', run.stdout.trim())), 'state under XDG_RUNTIME_DIR/tsrun').toBe(true);
      const exec = podman(['exec', name, 'sh', '-c', 'echo exec-ok; exit 4']);
      expect([exec.status, exec.stdout.trim()], `${runtime} exec: ${exec.stderr}`).toEqual([4, 'exec-ok']);
      expect(podman(['stop', '-t', '1', name]).status, `${runtime} stop`).toBe(0);
      expect(podman(['rm', name]).status, `${runtime} rm`).toBe(0);
    }
  });
});
