import { readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, shell, skipReason, type Sandbox } from './support/harness.js';

const skip = skipReason();

// Known ways out of a container, each closed and shown closed here. The
// others: no runtime fd or host cwd reaches the container (lifecycle and
// exec tests, the CVE-2024-21626 class); a symlink in the rootfs cannot
// redirect a mount (features test, the CVE-2021-30465 class).
describe.skipIf(skip !== undefined)('escape routes', () => {
  let s: Sandbox;
  beforeAll(() => {
    s = sandbox();
  });
  afterAll(() => s.cleanup());

  it("no process of the container can open the host's node binary through a tsrun process (CVE-2019-5736 class)", () => {
    // A created container's init is still the copy of Node that tsrun cloned,
    // waiting for `start` as pid 1 of the container's pid namespace.
    const bundle = s.bundle('exe-created', (c) => {
      c.process.args = ['sleep', '1000'];
    });
    expect(s.tsrun(['create', '--bundle', bundle, 'exe-created']).status).toBe(0);
    const init = JSON.parse(s.tsrun(['state', 'exe-created']).stdout).pid as number;
    expect(readlinkSync(`/proc/${init}/exe`)).toBe(process.execPath);
    // Root in the container, with runc's default capabilities (no CAP_SYS_PTRACE).
    const r = s.tsrun(['exec', 'exe-created', 'sh', '-c', 'cat /proc/1/exe >/dev/null && echo OPENED; cat /proc/1/maps >/dev/null && echo MAPS; true']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("can't open '/proc/1/exe': Permission denied");
  });

  it('masked and read-only paths cannot be remounted, unmounted or covered by the container process', () => {
    const r = s.tsrun(['run', '--bundle', s.bundle('remount', (c) => {
      shell(c, [
        'mount -o remount,rw /proc/sys; echo remount-sys=$?',
        'mount -o remount,rw,bind /proc/bus; echo remount-bus=$?',
        'umount /proc/kcore; echo umount-kcore=$?',
        'umount -l /proc/sys; echo umount-sys=$?',
        'mount -t tmpfs tmpfs /proc/sys; echo cover-sys=$?',
        'echo 1 > /proc/sys/kernel/ns_last_pid; echo write-sys=$?',
        'head -c1 /proc/kcore | wc -c',
      ].join('; '));
    }), 'remount']);
    expect(r.status, r.stderr).toBe(0);
    for (const step of ['remount-sys', 'remount-bus', 'umount-kcore', 'umount-sys', 'cover-sys', 'write-sys']) {
      expect(r.stdout, step).toMatch(new RegExp(`^${step}=[1-9]\\d*$`, 'm'));
    }
    // /proc/kcore is masked: still /dev/null, empty.
    expect(r.stdout.trim().split('\n').at(-1)).toBe('0');
  });
});
