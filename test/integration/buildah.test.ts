import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { both, ociArchive, RUNTIMES, type Runtime } from './support/engines.js';
import { skipReason } from './support/harness.js';

// buildah (Debian's package) runs the RUN steps of a build, and `buildah run`, through the OCI
// runtime it is given with --runtime: each is done with runc and with tsrun in the same test, and
// what buildah makes of runc's is what it must make of tsrun's. Storage of its own (--root,
// --runroot, vfs), the image from the project's busybox rootfs as an OCI archive (no registry),
// a signature policy of its own, and no network (--network none: no CNI bridge, no iptables).

function reason(): string | undefined {
  const base = skipReason();
  if (base !== undefined) return base;
  if (spawnSync('which', ['buildah']).status !== 0) {
    const why = 'buildah is not installed (.ci/install-deps.sh installs Debian\'s buildah)';
    console.warn(`skipping the buildah tests: ${why}`);
    return why;
  }
  return undefined;
}

const skip = reason();

describe.skipIf(skip !== undefined)('buildah --runtime tsrun, beside runc', () => {
  const dir = mkdtempSync(join(tmpdir(), 'buildah-tsrun-'));
  const archive = join(dir, 'busybox.tar');
  const context = join(dir, 'context');
  const policy = join(dir, 'policy.json');
  const built = (runtime: Runtime) => `localhost/buildah-built-${runtime}:test`;

  const buildah = (args: readonly string[], input = ''): SpawnSyncReturns<string> =>
    spawnSync('buildah', ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--storage-driver', 'vfs', ...args], {
      encoding: 'utf8',
      input,
      timeout: 120_000,
    });
  /** A build of `containerfile` with the runtime (--isolation oci: the RUN steps go through it, not chroot). */
  const build = (runtime: Runtime, containerfile: string, tag: string) => {
    writeFileSync(join(context, 'Containerfile'), containerfile);
    return buildah(['build', '--signature-policy', policy, '--runtime', RUNTIMES[runtime], '--isolation', 'oci', '--network', 'none', '-t', tag, context]);
  };
  const from = `FROM oci-archive:${archive}\n`;

  beforeAll(() => {
    ociArchive(archive, 'localhost/buildah-busybox:test', ['sh']);
    mkdirSync(context);
    writeFileSync(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  });

  afterAll(() => {
    buildah(['rm', '--all']);
    buildah(['rmi', '--all', '--force']);
    // vfs mounts nothing, but a build interrupted midway may leave its runroot's mounts.
    for (const mountPoint of readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(dir)).reverse()) {
      spawnSync('umount', ['--lazy', mountPoint]);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('build: a RUN step runs (its output printed), and the file it writes is in the image', () => {
    const r = both((runtime) => {
      const result = build(
        runtime,
        `${from}RUN echo "built by $(cat /proc/1/comm) as $(id -u):$(id -g), $(grep -E '^Cap(Eff|Amb)' /proc/self/status | tr '\\t\\n' '  ')" > /built && echo "the RUN step says hello"\n`,
        built(runtime),
      );
      expect(result.status, `${runtime}: ${result.stderr}`).toBe(0);
      // The file, read from the committed image's own root (buildah mount), not through a runtime.
      const container = buildah(['from', '--signature-policy', policy, '--name', `buildah-check-${runtime}`, built(runtime)]).stdout.trim();
      const root = buildah(['mount', container]).stdout.trim();
      const file = readFileSync(join(root, 'built'), 'utf8');
      buildah(['rm', container]);
      return { said: result.stdout.split('\n').includes('the RUN step says hello'), file, errors: result.stderr.split('\n').filter((l) => /level=error|^Error/.test(l)) };
    });
    expect(r.runc).toEqual({ said: true, file: expect.stringMatching(/^built by sh as 0:0, CapEff: [0-9a-f]{16} CapAmb: 0{16} \n$/), errors: [] });
    expect(r.tsrun).toEqual(r.runc);
  });

  it('build: a RUN step that fails stops the build with its exit status', () => {
    const r = both((runtime) => {
      const result = build(runtime, `${from}RUN echo before && exit 3\nRUN echo never\n`, `localhost/buildah-failing-${runtime}:test`);
      return { status: result.status, said: result.stdout.includes('before\n'), never: result.stdout.includes('never\n'), error: /^Error: .*$/m.exec(result.stderr)?.[0] };
    });
    expect(r.runc).toEqual({ status: 3, said: true, never: false, error: 'Error: building at STEP "RUN echo before && exit 3": while running runtime: exit status 3' });
    expect(r.tsrun).toEqual(r.runc);
  });

  it('run: stdin, stdout, stderr and exit status of a process in the built image', () => {
    const r = both((runtime) => {
      const container = buildah(['from', '--signature-policy', policy, '--name', `buildah-run-${runtime}`, built(runtime)]).stdout.trim();
      const result = buildah(['run', '--runtime', RUNTIMES[runtime], '--isolation', 'oci', '--network', 'none', container, '--', '/bin/sh', '-c', 'read x; echo "got $x"; cat /built; echo err >&2; exit 6'], 'in\n');
      return { status: result.status, stdout: result.stdout, stderr: result.stderr.split('\n').filter((l) => !l.includes('level=warning')) };
    });
    expect(r.runc.status).toBe(6);
    expect(r.runc.stdout).toMatch(/^got in\nbuilt by sh as 0:0, /);
    expect(r.runc.stderr).toEqual(['err', 'Error: while running runtime: exit status 6', '']);
    // Its own image: the same line, since runc's and tsrun's RUN steps wrote the same one.
    expect(r.tsrun).toEqual(r.runc);
  });

  it('a RUN step whose command is missing fails the build, with runc\'s words', () => {
    const r = both((runtime) => {
      const result = build(runtime, `${from}RUN ["/nonexistent"]\n`, `localhost/buildah-missing-${runtime}:test`);
      return { status: result.status, stderr: result.stderr };
    });
    for (const runtime of ['runc', 'tsrun'] as const) {
      expect(r[runtime].stderr, runtime).toMatch(/exec: \\?"\/nonexistent\\?": stat \/nonexistent: no such file or directory/);
      expect(r[runtime].stderr, runtime).toMatch(/^Error: building at STEP "RUN \/nonexistent": while running runtime: exit status \d+$/m);
    }
    // Where they differ, by design (docs/process.md, "A missing executable"): runc refuses
    // `create` (its exit status 1 is buildah's); tsrun creates the container, and its process
    // fails at start as a shell would, 127.
    expect([r.runc.status, r.tsrun.status]).toEqual([1, 127]);
  });

  it('leaves no container state and no cgroup behind', () => {
    for (const runtime of ['runc', 'tsrun'] as const) {
      // buildah passes no --root: its containers' state is in each runtime's default root.
      const r = spawnSync(RUNTIMES[runtime], ['list'], { encoding: 'utf8' });
      expect(r.stdout.split('\n').filter((l) => l.startsWith('buildah-buildah')), runtime).toEqual([]);
    }
    const pids = existsSync('/sys/fs/cgroup/pids') ? '/sys/fs/cgroup/pids' : '/sys/fs/cgroup';
    expect(readdirSync(pids).filter((e) => e.startsWith('buildah-'))).toEqual([]);
  });
});
