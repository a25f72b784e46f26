import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, shell, skipReason, type ConfigObject, type Sandbox } from './support/harness.js';

const skip = skipReason();
if (skip !== undefined) console.warn(`skipping the tmpcopyup tests: ${skip}`);
const RUNC = '/usr/sbin/runc';
if (!existsSync(RUNC)) console.warn(`skipping the runc comparison of tmpcopyup: ${RUNC} is not installed (.ci/install-deps.sh installs it)`);

// What the container shows of its copies: name, mode, owner, type; then contents and link targets.
const SCRIPT = [
  'cd /srv',
  'stat -c "%n %a %u:%g %F" data data/file data/sub data/sub/tool data/relative data/absolute',
  'cat data/file data/sub/tool',
  'readlink data/relative',
  'readlink data/absolute',
  'stat -c "%n %a %u:%g %F" /fresh /ro-copy /ro-copy/kept',
  'ls -A /fresh | wc -l',
  'touch data/written && echo data is writable',
  'touch /ro-copy/x 2>/dev/null || echo ro-copy is read-only',
  'grep -E " /(srv/data|fresh|ro-copy) " /proc/self/mountinfo | cut -d" " -f5,6,9',
].join('; ');

const COPY_UP_MOUNTS = [
  { destination: '/srv/data', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'tmpcopyup'] },
  { destination: '/fresh', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] },
  { destination: '/ro-copy', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'tmpcopyup', 'mode=755'] },
];

/** The tree the image has at /srv/data (and /ro-copy): owners, modes, a subdirectory, a set-uid file, symlinks. */
function makeImageTree(rootfs: string): void {
  const data = join(rootfs, 'srv/data');
  mkdirSync(join(data, 'sub'), { recursive: true });
  writeFileSync(join(data, 'file'), 'hello\n');
  lchownSync(join(data, 'file'), 1000, 1001);
  chmodSync(join(data, 'file'), 0o640);
  writeFileSync(join(data, 'sub/tool'), 'tool\n');
  lchownSync(join(data, 'sub/tool'), 1006, 1007);
  chmodSync(join(data, 'sub/tool'), 0o4755);
  lchownSync(join(data, 'sub'), 1002, 1003);
  chmodSync(join(data, 'sub'), 0o700);
  symlinkSync('../../etc/motd', join(data, 'relative'));
  lchownSync(join(data, 'relative'), 1004, 1005);
  // Absolute, and pointing at a path the host has too: it must stay a link into the container's /etc.
  symlinkSync('/etc/passwd', join(data, 'absolute'));
  lchownSync(data, 1234, 1235);
  chmodSync(data, 0o750);
  mkdirSync(join(rootfs, 'ro-copy'));
  writeFileSync(join(rootfs, 'ro-copy/kept'), 'kept\n');
  chmodSync(join(rootfs, 'ro-copy'), 0o700);
}

/** Every entry under `dir`, symlinks not followed: path, mode, owner, mtime, and a link's target or a file's content. */
function snapshot(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix))
    .sort()
    .flatMap((name) => {
      const path = join(prefix, name);
      const st = lstatSync(join(dir, path));
      const line = `${path} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.mtimeMs}`;
      if (st.isSymbolicLink()) return [`${line} -> ${readlinkSync(join(dir, path))}`];
      if (st.isDirectory()) return [line, ...snapshot(dir, path)];
      return [`${line} ${readFileSync(join(dir, path), 'utf8')}`];
    });
}

function configure(c: ConfigObject): void {
  // root.readonly is already set: the copies are what the process may write.
  c.mounts.push(...COPY_UP_MOUNTS);
  // Root must read the 0700 directories of other owners, as an engine's default capabilities allow.
  for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH');
  shell(c, SCRIPT);
}

describe.skipIf(skip !== undefined)('tmpcopyup (real mounts)', () => {
  let s: Sandbox;
  let rootfs: string;
  beforeAll(() => {
    s = sandbox();
    rootfs = join(s.dir, 'rootfs');
    makeImageTree(rootfs);
  });
  afterAll(() => s.cleanup());

  it('fills each tmpfs with the directory it covers: owners, modes, set-uid bit, subdirectory, symlinks; the root takes the mode, not the owner, as in runc', () => {
    const before = { data: snapshot(join(rootfs, 'srv/data')), roCopy: snapshot(join(rootfs, 'ro-copy')) };
    const r = s.tsrun(['run', '--bundle', s.bundle('copyup', configure), 'copyup']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      'data 750 0:0 directory',
      'data/file 640 1000:1001 regular file',
      'data/sub 700 1002:1003 directory',
      'data/sub/tool 4755 1006:1007 regular file',
      'data/relative 777 1004:1005 symbolic link',
      'data/absolute 777 0:0 symbolic link',
      'hello',
      'tool',
      '../../etc/motd',
      '/etc/passwd',
      // Not in the image: created empty, the tmpfs keeps its default mode, as in runc.
      '/fresh 1777 0:0 directory',
      // Read-only after its copy; the root's mode is the image directory's, over mode=755, as in runc.
      '/ro-copy 700 0:0 directory',
      '/ro-copy/kept 644 0:0 regular file',
      '0',
      'data is writable',
      'ro-copy is read-only',
      '/srv/data rw,nosuid,nodev,relatime tmpfs',
      '/fresh rw,relatime tmpfs',
      '/ro-copy ro,relatime tmpfs',
    ]);
    // The image is as it was: the copy read it, wrote only into the tmpfs.
    expect(snapshot(join(rootfs, 'srv/data'))).toEqual(before.data);
    expect(snapshot(join(rootfs, 'ro-copy'))).toEqual(before.roCopy);
    // Like runc, a missing destination is made in the rootfs (before the root turns read-only).
    expect(readdirSync(join(rootfs, 'fresh'))).toEqual([]);
  });

  if (!existsSync(RUNC)) console.warn(`skipping the runc comparison of tmpcopyup: no runc at ${RUNC} (.ci/install-deps.sh installs it)`);
  it.skipIf(!existsSync(RUNC))('shows the same as runc on the same bundle', () => {
    const bundle = s.bundle('copyup-runc', configure);
    const runc = spawnSync(RUNC, ['--root', join(s.dir, 'runc-state'), 'run', 'copyup-runc'], { cwd: bundle, encoding: 'utf8', timeout: 30_000 });
    expect(runc.status, runc.stderr).toBe(0);
    const ours = s.tsrun(['run', '--bundle', bundle, 'copyup-tsrun']);
    expect(ours.status, ours.stderr).toBe(0);
    expect(ours.stdout.trim().split('\n')).toEqual(runc.stdout.trim().split('\n'));
  });

  it('in a user namespace, copies as the container root, and an owner the namespace does not map becomes nobody, as in runc', () => {
    const bundle = s.bundle('copyup-userns', (c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.mounts = c.mounts.filter((m: { destination: string }) => m.destination !== '/sys');
      c.mounts.push(COPY_UP_MOUNTS[0]);
      for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH');
      shell(c, 'stat -c "%n %a %u:%g" /srv/data /srv/data/file /srv/data/sub/tool; cat /srv/data/file; touch /srv/data/new && echo writable');
    });
    const r = s.tsrun(['run', '--bundle', bundle, 'copyup-userns']);
    expect(r.status, r.stderr).toBe(0);
    // The image's owners (1000, 1234, ...) are host ids outside 100000-165535: the container sees nobody
    // (the tmpfs root is the container root's, as in runc).
    expect(r.stdout.trim().split('\n')).toEqual(['/srv/data 750 0:0', '/srv/data/file 640 65534:65534', '/srv/data/sub/tool 4755 65534:65534', 'hello', 'writable']);
  });

  it('refuses tmpcopyup on a bind mount, naming the field, and leaves nothing behind', () => {
    const bundle = s.bundle('copyup-bind', (c) => {
      c.mounts.push({ destination: '/srv/data', type: 'bind', source: join(rootfs, 'etc'), options: ['rbind', 'tmpcopyup'] });
    });
    const r = s.tsrun(['run', '--bundle', bundle, 'copyup-bind']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/mounts\[7\]\.options: .*tmpcopyup.* fills a new tmpfs with the directory it covers; .*not a bind mount/);
    expect(existsSync(join(s.root, 'copyup-bind'))).toBe(false);
  });
});
