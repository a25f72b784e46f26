import { chmodSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Mount, Process } from '../../../../src/config/types.js';
import { findExecutable, findStartProgram, resolveInRoot } from '../../../../src/linux/process/find-executable.js';
import { layout, temporaryDir } from '../fixtures.js';

const SCRIPT = '#!/bin/sh\n';

/** A bundle whose rootfs has busybox, a few links and some PATH directories. */
function bundle(): { dir: string; rootfs: string } {
  const dir = temporaryDir();
  const rootfs = join(dir, 'rootfs');
  layout(rootfs, { 'bin/busybox': SCRIPT, 'opt/tool': SCRIPT, 'a/prog': SCRIPT, 'b/prog': SCRIPT, 'app/run.sh': SCRIPT, 'd/prog': null, 'usr/bin': null });
  layout(rootfs, { 'c/prog': SCRIPT }, 0o644);
  symlinkSync('/bin/busybox', join(rootfs, 'bin/sh'));
  symlinkSync('/opt/tool', join(rootfs, 'usr/bin/tool'));
  // Absolute and relative links to a file that exists (and is executable) on
  // the host but not in the rootfs: inside the container they lead nowhere.
  symlinkSync(process.execPath, join(rootfs, 'usr/bin/hostbin'));
  symlinkSync(`../../../../../../../../../..${process.execPath}`, join(rootfs, 'usr/bin/upbin'));
  return { dir, rootfs };
}

function find(b: { dir: string; rootfs: string }, args: string[], env: string[] = [], options: { cwd?: string; mounts?: Mount[] } = {}): string {
  const proc: Process = { cwd: options.cwd ?? '/', args, env };
  return findExecutable(proc, b.rootfs, options.mounts ?? [], b.dir);
}

describe('findExecutable', () => {
  it('resolves an absolute symlink inside the rootfs (to its busybox, not the host\'s)', () => {
    const b = bundle();
    expect(find(b, ['sh'], ['PATH=/bin'])).toBe('/bin/sh');
    expect(find(b, ['tool'], ['PATH=/usr/bin'])).toBe('/usr/bin/tool');
    expect(find(b, ['/usr/bin/tool'])).toBe('/usr/bin/tool');
  });

  it('does not follow a link to a host file that the rootfs lacks', () => {
    const b = bundle();
    expect(() => find(b, ['hostbin'], ['PATH=/usr/bin'])).toThrow('executable file not found in $PATH');
    expect(() => find(b, ['/usr/bin/hostbin'])).toThrow('exec: "/usr/bin/hostbin": stat /usr/bin/hostbin: no such file or directory');
  });

  it('cannot climb out of the rootfs with ".." (in a link or in args[0])', () => {
    const b = bundle();
    expect(() => find(b, ['upbin'], ['PATH=/usr/bin'])).toThrow('executable file not found in $PATH');
    expect(() => find(b, [`../../../../../..${process.execPath}`])).toThrow(/: no such file or directory$/);
    // ".." at the top stays at the top of the rootfs.
    expect(find(b, ['../../../bin/sh'])).toBe('/bin/sh');
  });

  it('names a path that is there but cannot be executed "permission denied", as runc does (engines exit 126 on it, 127 on a missing one)', () => {
    const b = bundle();
    expect(() => find(b, ['/c/prog'])).toThrow('process.args[0]: exec: "/c/prog": permission denied');
    expect(() => find(b, ['/d/prog'])).toThrow('process.args[0]: exec: "/d/prog": permission denied');
    expect(() => find(b, ['/nosuch'])).toThrow('process.args[0]: exec: "/nosuch": stat /nosuch: no such file or directory');
  });

  it('gives an init a program to exec, or the failure and its shell exit status (127 missing, 126 not executable) for start to report', () => {
    const b = bundle();
    const start = (args: string[], env: string[] = []) => findStartProgram({ cwd: '/', args, env }, b.rootfs, [], b.dir);
    expect(start(['sh'], ['PATH=/bin'])).toEqual({ path: '/bin/sh' });
    const missing = start(['nosuch'], ['PATH=/bin']);
    expect('missing' in missing && [missing.missing.exitCode, missing.missing.message]).toEqual([127, 'process.args[0]: exec: "nosuch": executable file not found in $PATH (/bin)']);
    const denied = start(['/c/prog']);
    expect('missing' in denied && [denied.missing.exitCode, denied.missing.message]).toEqual([126, 'process.args[0]: exec: "/c/prog": permission denied']);
    // An empty args is a broken config, not a missing program: still a create error.
    expect(() => start([])).toThrow('process.args: the container needs a command (args[0])');
  });

  it('searches PATH in order', () => {
    const b = bundle();
    expect(find(b, ['prog'], ['PATH=/b:/a'])).toBe('/b/prog');
    expect(find(b, ['prog'], ['PATH=/a:/b'])).toBe('/a/prog');
  });

  it('skips a candidate that is not executable or not a file', () => {
    const b = bundle();
    expect(find(b, ['prog'], ['PATH=/c:/d:/missing:/a'])).toBe('/a/prog');
  });

  it('uses the default PATH when process.env has none', () => {
    const b = bundle();
    expect(find(b, ['sh'], ['HOME=/root'])).toBe('/bin/sh');
  });

  it('resolves relative PATH entries and a relative args[0] against process.cwd', () => {
    const b = bundle();
    expect(find(b, ['run.sh'], ['PATH=:/bin'], { cwd: '/app' })).toBe('/app/run.sh');
    expect(find(b, ['./run.sh'], [], { cwd: '/app' })).toBe('/app/run.sh');
    expect(find(b, ['prog'], ['PATH=../a'], { cwd: '/app' })).toBe('/a/prog');
  });

  it('follows a bind mount that covers the directory', () => {
    const b = bundle();
    layout(b.rootfs, { 'opt/tools/bin/hello': SCRIPT }, 0o644); // what the image has under the mount
    layout(b.dir, { 'tools/bin/hello': SCRIPT }); // what the mount shows
    const mounts: Mount[] = [{ destination: '/opt/tools', type: 'bind', source: 'tools' }];
    expect(() => find(b, ['hello'], ['PATH=/opt/tools/bin'])).toThrow('executable file not found in $PATH');
    expect(find(b, ['hello'], ['PATH=/opt/tools/bin'], { mounts })).toBe('/opt/tools/bin/hello');
    // The mount hides the image's file: an executable in the image under it does not count.
    chmodSync(join(b.rootfs, 'opt/tools/bin/hello'), 0o755);
    chmodSync(join(b.dir, 'tools/bin/hello'), 0o644);
    expect(() => find(b, ['hello'], ['PATH=/opt/tools/bin'], { mounts })).toThrow('executable file not found in $PATH');
  });

  it('takes the last of several bind mounts on the same directory, and rbind options count as binds', () => {
    const b = bundle();
    layout(b.rootfs, { 'opt/tools/bin/hello': SCRIPT }, 0o644);
    layout(b.dir, { 'one/bin/hello': SCRIPT });
    layout(b.dir, { 'two/bin/hello': SCRIPT }, 0o644);
    const mounts: Mount[] = [
      { destination: '/opt/tools', source: 'two', options: ['rbind'] },
      { destination: '/opt/tools', source: join(b.dir, 'one'), type: 'none', options: ['rbind', 'ro'] },
    ];
    expect(find(b, ['/opt/tools/bin/hello'], [], { mounts })).toBe('/opt/tools/bin/hello');
    expect(() => find(b, ['/opt/tools/bin/hello'], [], { mounts: [...mounts].reverse() })).toThrow('exec: "/opt/tools/bin/hello": permission denied');
  });

  // A bind mount onto a directory the image does not have (mounts create
  // their destination) is searched on the plain path: the binary it provides
  // is found although the rootfs walk stops at the missing component.
  it('finds a binary in a bind mount whose destination the image does not have', () => {
    const b = bundle();
    layout(b.dir, { 'tools/bin/hello': SCRIPT });
    const mounts: Mount[] = [{ destination: '/opt/tools', type: 'bind', source: 'tools' }];
    expect(find(b, ['hello'], ['PATH=/opt/tools/bin'], { mounts })).toBe('/opt/tools/bin/hello');
    expect(find(b, ['/opt/tools/bin/hello'], [], { mounts })).toBe('/opt/tools/bin/hello');
    // Without the mount nothing provides it.
    expect(() => find(b, ['hello'], ['PATH=/opt/tools/bin'])).toThrow(/executable file not found in \$PATH/);
  });

  it('says what runc says when the command is nowhere in $PATH', () => {
    const b = bundle();
    expect(() => find(b, ['nope'], ['PATH=/bin:/usr/bin'])).toThrow('process.args[0]: exec: "nope": executable file not found in $PATH (/bin:/usr/bin)');
  });

  it('refuses a process without args', () => {
    const b = bundle();
    expect(() => find(b, [])).toThrow('process.args: the container needs a command (args[0])');
    expect(() => find(b, [''])).toThrow('process.args: the container needs a command (args[0])');
  });
});

describe('resolveInRoot', () => {
  it('returns the path inside the root and on the host, links resolved', () => {
    const b = bundle();
    expect(resolveInRoot(b.rootfs, '/bin/sh')).toEqual({ inside: '/bin/busybox', host: join(b.rootfs, 'bin/busybox') });
    expect(resolveInRoot(b.rootfs, '//usr/./bin/../bin/tool')).toEqual({ inside: '/opt/tool', host: join(b.rootfs, 'opt/tool') });
    expect(resolveInRoot(b.rootfs, '/')).toEqual({ inside: '/', host: b.rootfs });
  });

  it('resolves a relative link from the directory that holds it', () => {
    const b = bundle();
    mkdirSync(join(b.rootfs, 'lib'));
    symlinkSync('../opt/tool', join(b.rootfs, 'lib/t'));
    expect(resolveInRoot(b.rootfs, '/lib/t')?.inside).toBe('/opt/tool');
  });

  it('gives up on a missing component and on a link loop', () => {
    const b = bundle();
    symlinkSync('/loop2', join(b.rootfs, 'loop1'));
    symlinkSync('/loop1', join(b.rootfs, 'loop2'));
    expect(resolveInRoot(b.rootfs, '/missing/x')).toBeUndefined();
    expect(resolveInRoot(b.rootfs, '/loop1')).toBeUndefined();
  });
});
