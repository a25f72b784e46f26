import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cannotRunContainers, exampleRootfs, NOBODY, nobodyBundle, sandbox, shell, type ConfigObject, type Sandbox } from '../integration/support/harness.js';
import { skipUnlessRequired } from './skip-unless-required.js';

// process.apparmorProfile and `exec --apparmor`, applied by a kernel that runs
// AppArmor: the cgroup2 guest does (Debian's kernel enables it; the guest
// mounts securityfs). This host's kernel does not, so elsewhere the file skips.

const ENABLED = '/sys/module/apparmor/parameters/enabled';
const PROFILES = '/sys/kernel/security/apparmor/profiles';

function whyNot(): string | undefined {
  const reason = cannotRunContainers();
  if (reason !== undefined) return reason;
  if (!existsSync(ENABLED) || !readFileSync(ENABLED, 'utf8').startsWith('Y')) return 'the kernel does not run AppArmor: run these in .ci/cgroup2-vm';
  if (!existsSync(PROFILES)) return 'securityfs is not mounted on /sys/kernel/security';
  if (spawnSync('apparmor_parser', ['--version']).status !== 0) return 'apparmor_parser is missing (.ci/cgroup2-vm/prepare.sh installs the apparmor package)';
  return undefined;
}

const skip = skipUnlessRequired('apparmor', 'test/vm/apparmor.test.ts', whyNot());

/**
 * Everything allowed but writing one file: confinement shows as that write
 * failing, and the rest of a container's life works under it.
 */
function profile(name: string, denied: string): string {
  return `profile ${name} flags=(attach_disconnected,mediate_deleted) {
  file,
  capability,
  network,
  mount,
  remount,
  umount,
  pivot_root,
  signal,
  ptrace,
  unix,
  deny ${denied} w,
}
`;
}

/** Writes /tmp/open (allowed) and /tmp/secret (denied by tsrun-test), then prints its label. */
const PROBE = 'echo x > /tmp/open && echo open-written; echo x > /tmp/secret && echo secret-written; cat /proc/self/attr/current';

describe.skipIf(skip !== undefined)('AppArmor profiles, applied by the kernel (cgroup2 guest)', () => {
  let s: Sandbox;
  beforeAll(() => {
    s = sandbox();
    for (const [name, denied] of [
      ['tsrun-test', '/tmp/secret'],
      ['tsrun-test-other', '/tmp/open'],
    ] as const) {
      const file = join(s.dir, `${name}.profile`);
      writeFileSync(file, profile(name, denied));
      const r = spawnSync('apparmor_parser', ['--replace', '--skip-cache', file], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
    expect(readFileSync(PROFILES, 'utf8')).toContain('tsrun-test (enforce)');
  });
  afterAll(() => s.cleanup());

  const withProfile = (name: string, script: string, edit: (c: ConfigObject) => void = () => {}) =>
    s.bundle(name, (c) => {
      shell(c, script);
      c.process.apparmorProfile = 'tsrun-test';
      edit(c);
    });
  const hostLabel = (pid: number) => readFileSync(`/proc/${pid}/attr/current`, 'utf8').replace(/\0/g, '').trim();

  it('confines the container process from its execve: the denied write fails, the rest works, as under runc', () => {
    const bundle = withProfile('aa-run', PROBE, (c) => {
      // runc 1.1 (Debian 12) knows spec versions up to 1.1; the bundle is shared.
      c.ociVersion = '1.0.2';
    });
    const r = s.tsrun(['run', '--bundle', bundle, 'aa-run']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['open-written', 'tsrun-test (enforce)']);
    expect(r.stderr).toMatch(/\/tmp\/secret: Permission denied/);

    const runc = spawnSync('runc', ['--root', join(s.dir, 'runc'), 'run', '--bundle', bundle, 'aa-run-runc'], { encoding: 'utf8', timeout: 60_000 });
    expect(runc.error).toBeUndefined();
    expect(runc.status, runc.stderr).toBe(0);
    expect(runc.stdout).toBe(r.stdout);
  });

  it('the init runs under the profile as the host sees it, and exec takes the container\'s profile or --apparmor\'s', () => {
    const bundle = withProfile('aa-exec', 'sleep 1000');
    expect(s.tsrun(['run', '-d', '--bundle', bundle, 'aa-exec']).status).toBe(0);
    try {
      expect(hostLabel(s.pid('aa-exec'))).toBe('tsrun-test (enforce)');

      const inherited = s.tsrun(['exec', 'aa-exec', 'sh', '-c', PROBE]);
      expect(inherited.status, inherited.stderr).toBe(0);
      expect(inherited.stdout.trim().split('\n')).toEqual(['open-written', 'tsrun-test (enforce)']);

      const other = s.tsrun(['exec', '--apparmor', 'tsrun-test-other', 'aa-exec', 'sh', '-c', PROBE]);
      expect(other.status, other.stderr).toBe(0);
      expect(other.stdout.trim().split('\n')).toEqual(['secret-written', 'tsrun-test-other (enforce)']);
      expect(other.stderr).toMatch(/\/tmp\/open: Permission denied/);

      // A process.json without a profile keeps the container's (as in runc).
      const processFile = join(s.dir, 'aa-process.json');
      writeFileSync(processFile, JSON.stringify({ cwd: '/', args: ['cat', '/proc/self/attr/current'], user: { uid: 0, gid: 0 } }));
      const fromFile = s.tsrun(['exec', '--process', processFile, 'aa-exec']);
      expect(fromFile.status, fromFile.stderr).toBe(0);
      expect(fromFile.stdout.trim()).toBe('tsrun-test (enforce)');

      const missing = s.tsrun(['exec', '--apparmor', 'tsrun-not-loaded', 'aa-exec', 'true']);
      expect(missing.status).not.toBe(0);
      expect(missing.stderr).toContain('the AppArmor profile tsrun-not-loaded is not loaded');
    } finally {
      s.tsrun(['delete', '--force', 'aa-exec']);
    }
  });

  it('a /proc that is not procfs cannot stand in for the attr file (the class of CVE-2019-16884)', () => {
    // A bind of a directory onto /proc is refused outright (src/linux/rootfs/proc-mount.ts).
    const fake = join(s.dir, 'fake-proc');
    mkdirSync(fake);
    const bound = s.tsrun(['run', '-d', '--bundle', withProfile('aa-bindproc', 'sleep 1000', (c) => {
      c.mounts = c.mounts.map((m: { destination: string }) => (m.destination === '/proc' ? { destination: '/proc', type: 'bind', source: fake, options: ['rbind', 'rw'] } : m));
    }), 'aa-bindproc']);
    expect(bound.status).not.toBe(0);
    expect(bound.stderr).toMatch(/\/proc must be a procfs mount/);
    // Without a proc mount the container's /proc is the image's own directory, here with a
    // writable attr/exec of its own: a runtime that asked through it would ask nothing of the kernel.
    const image = join(s.dir, 'fake-proc-rootfs');
    cpSync(exampleRootfs, image, { recursive: true, verbatimSymlinks: true });
    mkdirSync(join(image, 'proc/self/attr/apparmor'), { recursive: true });
    writeFileSync(join(image, 'proc/self/attr/exec'), '');
    writeFileSync(join(image, 'proc/self/attr/apparmor/exec'), '');
    const bundle = withProfile('aa-fakeproc', 'sleep 1000', (c) => {
      c.root.path = image;
      c.mounts = c.mounts.filter((m: { destination: string }) => m.destination !== '/proc');
      c.linux.maskedPaths = [];
      c.linux.readonlyPaths = [];
    });
    const r = s.tsrun(['run', '-d', '--bundle', bundle, 'aa-fakeproc']);
    expect(r.status, r.stderr).toBe(0);
    try {
      expect(hostLabel(s.pid('aa-fakeproc'))).toBe('tsrun-test (enforce)');
      expect(readFileSync(join(image, 'proc/self/attr/apparmor/exec'), 'utf8')).toBe('');
    } finally {
      s.tsrun(['delete', '--force', 'aa-fakeproc']);
    }
  });

  it('a profile that is not loaded fails before anything exists, naming the field and what to do', () => {
    const bundle = withProfile('aa-missing', 'true', (c) => {
      c.process.apparmorProfile = 'tsrun-not-loaded';
    });
    const r = s.tsrun(['run', '--bundle', bundle, 'aa-missing']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(
      'process.apparmorProfile: the AppArmor profile tsrun-not-loaded is not loaded (not in /sys/kernel/security/apparmor/profiles); load it first (apparmor_parser -r <file>)',
    );
    expect(existsSync(join(s.root, 'aa-missing')), 'no state directory').toBe(false);
    expect(existsSync('/sys/fs/cgroup/aa-missing'), 'no cgroup').toBe(false);

  });

  it('an unprivileged caller (rootless) gets the profile too, for the init and for an exec (whose chain forks)', () => {
    const nobody = nobodyBundle('tsrun-aa-rootless-');
    try {
      expect(nobody.tsrun(['spec', '--rootless']).status).toBe(0);
      const configPath = join(nobody.bundle, 'config.json');
      const config = JSON.parse(readFileSync(configPath, 'utf8'));
      config.process.terminal = false;
      config.process.args = ['/bin/sh', '-c', PROBE];
      config.process.apparmorProfile = 'tsrun-test';
      // In the guest every process is in the root cgroup, which the rbind of /sys already
      // shows at /sys/fs/cgroup: a cgroup2 mount of the same root there is EBUSY.
      config.mounts = config.mounts.filter((m: { destination: string }) => m.destination !== '/sys/fs/cgroup');
      config.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev'] });
      writeFileSync(configPath, JSON.stringify(config));
      spawnSync('chown', [`${NOBODY}:${NOBODY}`, configPath]);
      const state = join(nobody.dir, 'state');
      const r = nobody.tsrun(['--root', state, 'run', 'aa-rootless']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim().split('\n')).toEqual(['open-written', 'tsrun-test (enforce)']);

      config.process.args = ['sleep', '1000'];
      writeFileSync(configPath, JSON.stringify(config));
      expect(nobody.tsrun(['--root', state, 'run', '-d', 'aa-rootless-exec'], { detached: true }).status).toBe(0);
      try {
        const e = nobody.tsrun(['--root', state, 'exec', 'aa-rootless-exec', 'sh', '-c', PROBE]);
        expect(e.status, e.stderr).toBe(0);
        expect(e.stdout.trim().split('\n')).toEqual(['open-written', 'tsrun-test (enforce)']);
        expect(e.stderr).toMatch(/\/tmp\/secret: Permission denied/);
      } finally {
        nobody.tsrun(['--root', state, 'delete', '--force', 'aa-rootless-exec']);
      }
    } finally {
      nobody.cleanup();
    }
  });
});
