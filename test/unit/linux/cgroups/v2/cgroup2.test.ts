import { readFileSync as realReadFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RecordingKernel } from '../../../fakes/recording-kernel.js';
import { baseSpec, temporaryDir } from '../../fixtures.js';

// cgroup2.ts reads /proc/self/mountinfo and /proc/self/cgroup. Tests that need
// a particular host put fake contents here; the others read the real files.
const fake = vi.hoisted(() => ({ files: undefined as Record<string, string> | undefined }));

vi.mock('node:fs', async (importOriginal) => {
  const { withReadFileOverlay } = await import('../../../fakes/read-file-overlay.js');
  return withReadFileOverlay(await importOriginal<typeof import('node:fs')>(), () => fake.files);
});

const { cgroup2Mount, cgroupDirectory, ownCgroup } = await import('../../../../../src/linux/cgroups/v2/cgroup2.js');
const { systemdPath } = await import('../../../../../src/linux/cgroups/cgroups-path.js');
const { removeEmpty } = await import('../../../../../src/linux/cgroups/cgroup-tree.js');
const { v2Driver } = await import('../../../../../src/linux/cgroups/v2/driver.js');
const { cgroupLayout } = await import('../../../../../src/linux/cgroups/layout.js');

/**
 * The v2 driver's create on a host whose cgroup2 is mounted at `root`:
 * returns the directories it made, deepest first.
 */
function joinCgroup(kernel: RecordingKernel, root: string, path: string, pid: number): string[] {
  fake.files = {
    '/proc/self/mountinfo': `31 22 0:27 / ${root} rw,nosuid,nodev,noexec,relatime shared:8 - cgroup2 cgroup2 rw,nsdelegate\n`,
    '/proc/self/cgroup': '0::/\n',
  };
  const planned = v2Driver.plan(kernel, { id: 'c1', cgroupsPath: path, resources: undefined, systemd: false }, cgroupLayout());
  const placement = planned.create(pid).placement;
  return [placement.dirs[''] as string, ...placement.createdParents];
}

afterEach(() => {
  fake.files = undefined;
});

/** A cgroup v2 host where tsrun runs in a login session's scope. */
function pureV2Host(own = '/user.slice/user-1000.slice/session-2.scope'): void {
  fake.files = {
    '/proc/self/mountinfo': [
      '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
      '30 22 0:26 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw',
      '31 30 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:8 - cgroup2 cgroup2 rw,nsdelegate',
    ].join('\n'),
    '/proc/self/cgroup': `0::${own}\n`,
  };
}

const withPath = (cgroupsPath: string | undefined) => baseSpec({ linux: { namespaces: [{ type: 'mount' }], ...(cgroupsPath === undefined ? {} : { cgroupsPath }) } });

describe('cgroupDirectory', () => {
  it('puts a container without cgroupsPath at /<id> under the cgroup2 root', () => {
    pureV2Host();
    expect(cgroupDirectory(withPath(undefined).linux?.cgroupsPath, 'c1', false)).toBe('/sys/fs/cgroup/c1');
    expect(cgroupDirectory(withPath('').linux?.cgroupsPath, 'c1', false)).toBe('/sys/fs/cgroup/c1');
  });

  it('takes an absolute cgroupsPath from the cgroup2 root', () => {
    pureV2Host();
    expect(cgroupDirectory(withPath('/tsrun/web').linux?.cgroupsPath, 'c1', false)).toBe('/sys/fs/cgroup/tsrun/web');
  });

  it('takes a relative cgroupsPath from the caller\'s own cgroup', () => {
    pureV2Host();
    expect(cgroupDirectory(withPath('tsrun/web').linux?.cgroupsPath, 'c1', false)).toBe('/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope/tsrun/web');
  });

  it('reads slice:prefix:name as systemd\'s path, with or without --systemd-cgroup', () => {
    pureV2Host();
    expect(cgroupDirectory(withPath('system.slice:docker:abc').linux?.cgroupsPath, 'c1', false)).toBe('/sys/fs/cgroup/system.slice/docker-abc.scope');
    expect(cgroupDirectory(withPath('system.slice:docker:abc').linux?.cgroupsPath, 'c1', true)).toBe('/sys/fs/cgroup/system.slice/docker-abc.scope');
  });

  it('defaults to system.slice/tsrun-<id>.scope with --systemd-cgroup', () => {
    pureV2Host();
    expect(cgroupDirectory(withPath(undefined).linux?.cgroupsPath, 'c1', true)).toBe('/sys/fs/cgroup/system.slice/tsrun-c1.scope');
  });

  // Without --systemd-cgroup an empty cgroupsPath means "none"; with it too
  // (the unit is tsrun-<id>.scope, not <id>.scope).
  it('treats an empty cgroupsPath like none with --systemd-cgroup too', () => {
    pureV2Host();
    expect(cgroupDirectory(withPath('').linux?.cgroupsPath, 'c1', true)).toBe('/sys/fs/cgroup/system.slice/tsrun-c1.scope');
    expect(cgroupDirectory(withPath('').linux?.cgroupsPath, 'c1', true)).toBe(cgroupDirectory(withPath(undefined).linux?.cgroupsPath, 'c1', true));
    expect(cgroupDirectory(withPath('').linux?.cgroupsPath, 'c1', false)).toBe('/sys/fs/cgroup/c1');
  });

  it('uses this host\'s real cgroup2 mount', () => {
    const line = realReadFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .find((l) => l.split(' - ')[1]?.startsWith('cgroup2 '));
    if (line === undefined) {
      expect(() => cgroup2Mount()).toThrow(/no cgroup2 filesystem is mounted/);
      return;
    }
    const mountPoint = line.split(' ')[4] as string;
    expect(cgroupDirectory(withPath(undefined).linux?.cgroupsPath, 'abc', false)).toBe(join(mountPoint, 'abc'));
    expect(cgroupDirectory(withPath('/x/y').linux?.cgroupsPath, 'abc', false)).toBe(join(mountPoint, 'x/y'));
  });
});

describe('cgroup2Mount and ownCgroup', () => {
  it('finds the hybrid layout\'s unified tree', () => {
    fake.files = {
      '/proc/self/mountinfo': [
        '22 1 8:1 / / rw - ext4 /dev/sda1 rw',
        '35 30 0:30 / /sys/fs/cgroup/memory rw,nosuid shared:10 - cgroup cgroup rw,memory',
        '41 31 0:38 / /sys/fs/cgroup/unified rw,nosuid shared:9 - cgroup2 cgroup2 rw',
      ].join('\n'),
      '/proc/self/cgroup': '4:memory:/x\n0::/\n',
    };
    expect(cgroup2Mount()).toBe('/sys/fs/cgroup/unified');
    expect(ownCgroup()).toBe('/');
  });

  it('refuses a host without cgroup2', () => {
    fake.files = { '/proc/self/mountinfo': '22 1 8:1 / / rw - ext4 /dev/sda1 rw\n35 30 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n' };
    expect(() => cgroup2Mount()).toThrow('no cgroup2 filesystem is mounted on this host');
  });

  it('reads the 0:: line, or "/" when there is none', () => {
    fake.files = { '/proc/self/cgroup': '12:pids:/a\n0::/b/c\n' };
    expect(ownCgroup()).toBe('/b/c');
    fake.files = { '/proc/self/cgroup': '12:pids:/a\n' };
    expect(ownCgroup()).toBe('/');
  });
});

describe('systemdPath', () => {
  it('nests each dash-separated prefix of the slice and names the scope <prefix>-<name>', () => {
    expect(systemdPath('system.slice:docker:abc', 'c1')).toBe('/system.slice/docker-abc.scope');
    expect(systemdPath('a-b-c.slice:p:n', 'c1')).toBe('/a.slice/a-b.slice/a-b-c.slice/p-n.scope');
    expect(systemdPath('user-1000.slice:tsrun:x', 'c1')).toBe('/user.slice/user-1000.slice/tsrun-x.scope');
  });

  it('puts -.slice (the root slice) at the top', () => {
    expect(systemdPath('-.slice:p:n', 'c1')).toBe('/p-n.scope');
  });

  it('defaults the slice to system.slice, the name to the id, and drops an empty prefix', () => {
    expect(systemdPath(':tsrun:', 'c1')).toBe('/system.slice/tsrun-c1.scope');
    expect(systemdPath('machine.slice::web', 'c1')).toBe('/machine.slice/web.scope');
  });

  it('uses a name ending in .slice as the unit itself', () => {
    expect(systemdPath('system.slice:p:my.slice', 'c1')).toBe('/system.slice/my.slice');
  });

  it('refuses a slice that does not end in .slice', () => {
    expect(() => systemdPath('system:p:n', 'c1')).toThrow('linux.cgroupsPath: "system" is not a systemd slice name (it must end in .slice)');
  });

  // An empty dash component is not a valid slice name (systemd and runc's
  // ExpandSlice refuse "-a.slice", "a--b.slice", "a-.slice" and ".slice"):
  // no path such as /.slice/-a.slice/... is ever made of them.
  it('refuses slice names with an empty dash component, as runc does', () => {
    for (const slice of ['-a.slice', 'a--b.slice', 'a-.slice', '.slice', '--.slice', 'a-b-.slice']) {
      expect(() => systemdPath(`${slice}:p:n`, 'c1'), slice).toThrow(
        `linux.cgroupsPath: "${slice}" is not a valid systemd slice name (empty part between dashes)`,
      );
    }
    // The root slice is the one name made of an empty dash part, and stays valid.
    expect(systemdPath('-.slice:p:n', 'c1')).toBe('/p-n.scope');
  });

  it('refuses such a slice through cgroupDirectory too, with or without --systemd-cgroup', () => {
    pureV2Host();
    for (const systemd of [false, true]) {
      expect(() => cgroupDirectory(withPath('a--b.slice:p:n').linux?.cgroupsPath, 'c1', systemd), String(systemd)).toThrow(
        'linux.cgroupsPath: "a--b.slice" is not a valid systemd slice name (empty part between dashes)',
      );
    }
  });
});

describe('joinCgroup and removeCgroups', () => {
  it('creates the missing parents and the cgroup, then writes the pid to cgroup.procs; returns them deepest first', () => {
    const root = temporaryDir();
    const kernel = new RecordingKernel();
    const created = joinCgroup(kernel, root, '/a/b/c1', 4321);
    expect(kernel.calls).toEqual([
      { op: 'mkdir', path: join(root, 'a') },
      { op: 'mkdir', path: join(root, 'a/b') },
      { op: 'mkdir', path: join(root, 'a/b/c1') },
      { op: 'writeFile', path: join(root, 'a/b/c1/cgroup.procs'), data: '4321', field: 'linux.cgroupsPath' },
    ]);
    expect(created).toEqual([join(root, 'a/b/c1'), join(root, 'a/b'), join(root, 'a')]);
  });

  it('refuses a cgroup that already exists (delete would kill what is in it), and removes the parents it made', () => {
    const root = temporaryDir();
    const kernel = new RecordingKernel().failOn('mkdir', 'EEXIST', { when: (c) => c.path === join(root, 'new/c1') });
    expect(() => joinCgroup(kernel, root, '/new/c1', 1)).toThrow(
      `linux.cgroupsPath: the cgroup ${join(root, 'new/c1')} already exists; tsrun gives each container a new cgroup of its own`,
    );
    expect(kernel.callsTo('writeFile')).toEqual([]);
    expect(kernel.callsTo('rmdir')).toEqual([{ op: 'rmdir', path: join(root, 'new') }]);
  });

  it('does not move the process when the directory cannot be made', () => {
    const kernel = new RecordingKernel().failOn('mkdir', 'EACCES');
    expect(() => joinCgroup(kernel, '/sys/fs/cgroup', '/c1', 1)).toThrow('mkdir /sys/fs/cgroup/c1: EACCES');
    expect(kernel.callsTo('writeFile')).toEqual([]);
  });

  it('removes cgroups deepest first and leaves the busy or missing ones', () => {
    const kernel = new RecordingKernel().failOn('rmdir', 'EBUSY', { when: (c) => c.path === '/cg/a' });
    removeEmpty(kernel, ['/cg/a/b', '/cg/a']);
    expect(kernel.callsTo('rmdir').map((c) => c.path)).toEqual(['/cg/a/b', '/cg/a']);
  });
});

describe('cgroupDirectory refuses cgroups that are not the container\'s own', () => {
  it('refuses the cgroup2 root and ancestors of tsrun\'s own cgroup', () => {
    pureV2Host('/system.slice/engine.service');
    expect(() => cgroupDirectory(withPath('/').linux?.cgroupsPath, 'c1', false)).toThrow('/sys/fs/cgroup is the cgroup2 root');
    expect(() => cgroupDirectory(withPath('.').linux?.cgroupsPath, 'c1', false)).toThrow("an ancestor of tsrun's own cgroup");
    expect(() => cgroupDirectory(withPath('/system.slice').linux?.cgroupsPath, 'c1', false)).toThrow("an ancestor of tsrun's own cgroup");
    expect(cgroupDirectory(withPath('/system.slice/c1').linux?.cgroupsPath, 'c1', false)).toBe('/sys/fs/cgroup/system.slice/c1');
  });
});
