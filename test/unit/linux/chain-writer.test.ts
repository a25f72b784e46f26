import { describe, expect, it } from 'vitest';
import { O, RESOLVE } from '../../../ffi/constants.js';
import { SYS } from '../../../ffi/syscall-numbers.js';
import { fdPath } from '../../../ffi/path-fd.js';
import { ChainWriter } from '../../../src/linux/chain-writer.js';
import { FdTable } from '../../../src/linux/fd-table.js';
import { callSteps, decodeOpenHow, render } from './steps.js';

describe('ChainWriter', () => {
  it('openInRoot makes a raw openat2 with RESOLVE_IN_ROOT, O_CLOEXEC and a relative path', () => {
    const w = new ChainWriter(new FdTable([0, 1, 2, 3]));
    const fd = w.openInRoot('open etc', 3, '/etc/hosts', O.PATH, 0o600);
    expect(fd).toBe(4);
    const [step] = callSteps(w.steps);
    expect(step?.fn).toBe('syscall');
    expect(step?.args[0]).toBe(SYS.openat2);
    expect(step?.args.slice(1, 3)).toEqual([3, 'etc/hosts']);
    expect(step?.args[4]).toBe(24);
    const how = decodeOpenHow(step?.args[3] as Uint8Array);
    expect(how).toEqual({ flags: O.PATH | O.CLOEXEC, mode: 0o600, resolve: RESOLVE.IN_ROOT | RESOLVE.NO_MAGICLINKS });
    expect(step?.report).toBe('open etc');
  });

  it('openInRoot of "/" opens "." (openat2 refuses an empty path)', () => {
    const w = new ChainWriter(new FdTable([0, 1, 2, 3]));
    w.openInRoot('open root', 3, '/', O.PATH);
    w.openInRoot('open root', 3, '///', O.PATH);
    expect(callSteps(w.steps).map((s) => s.args[2])).toEqual(['.', '.']);
  });

  it('open and close keep the table in step with the calls', () => {
    const fds = new FdTable([0, 1, 2]);
    const w = new ChainWriter(fds);
    const a = w.open('open a', '/a', O.RDONLY);
    const b = w.open('open b', '/b', O.WRONLY, 0o644);
    w.close(a);
    const c = w.open('open c', '/c', O.RDONLY);
    expect([a, b, c]).toEqual([3, 4, 3]);
    expect(render(w.steps)).toEqual([
      'open("/a", O_RDONLY|O_CLOEXEC, 0o0) ?report',
      'open("/b", O_WRONLY|O_CLOEXEC, 0o644) ?report',
      'close(3) ?report',
      'open("/c", O_RDONLY|O_CLOEXEC, 0o0) ?report',
    ]);
    expect(fds.has(4)).toBe(true);
  });

  it('call is unchecked, check and sys are reported with their tolerated errnos', () => {
    const w = new ChainWriter(new FdTable([]));
    w.call('umask', [0o22]);
    w.check('mkdir x', 'mkdirat', [3, 'x', 0o755], ['EEXIST']);
    w.sys('setresuid 0', 'setresuid', [0, 0, 0]);
    w.unblockSignals();
    w.checkpoint('ready');
    w.reportErrno('execve /bin/sh');
    expect(w.steps).toEqual([
      { kind: 'call', fn: 'umask', args: [0o22] },
      { kind: 'call', fn: 'mkdirat', args: [3, 'x', 0o755], report: 'mkdir x', tolerate: ['EEXIST'] },
      { kind: 'call', fn: 'syscall', args: [SYS.setresuid, 0, 0, 0], report: 'setresuid 0' },
      { kind: 'unblock-signals' },
      { kind: 'checkpoint', name: 'ready' },
      { kind: 'report', what: 'execve /bin/sh' },
    ]);
  });

  it('fdPath names an fd through procfs', () => {
    expect(fdPath(7)).toBe('/proc/self/fd/7');
  });
});
