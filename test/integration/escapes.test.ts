import { cpSync, existsSync, mkdirSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleRootfs, sandbox, shell, skipReason, type ConfigObject, type Sandbox } from './support/harness.js';

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

  it('no capability is inheritable unless the config lists it, for the init and for exec, --cap included (CVE-2022-29162 class)', () => {
    const init = s.running('inheritable');
    const capInh = (status: string) => /^CapInh:\s+([0-9a-f]+)$/m.exec(status)?.[1];
    expect(capInh(readFileSync(`/proc/${init}/status`, 'utf8'))).toBe('0000000000000000');
    const plain = s.tsrun(['exec', 'inheritable', 'cat', '/proc/self/status']);
    expect(plain.status, plain.stderr).toBe(0);
    expect(capInh(plain.stdout)).toBe('0000000000000000');
    // --cap adds to the bounding, effective and permitted sets (CAP_NET_ADMIN is bit 12), never to the inheritable one.
    const added = s.tsrun(['exec', '--cap', 'CAP_NET_ADMIN', 'inheritable', 'cat', '/proc/self/status']);
    expect(added.status, added.stderr).toBe(0);
    expect(capInh(added.stdout)).toBe('0000000000000000');
    const effective = BigInt(`0x${/^CapEff:\s+([0-9a-f]+)$/m.exec(added.stdout)?.[1] ?? '0'}`);
    expect(effective & (1n << 12n)).toBe(1n << 12n);
  });

  it('nothing but procfs can be /proc, and no bind may cover what is under it, not even through a symlink of the image (CVE-2019-19921, CVE-2023-27561 class)', () => {
    const fake = join(s.dir, 'fake-proc');
    mkdirSync(fake);
    const refused = (id: string, edit: (c: ConfigObject) => void, message: RegExp) => {
      const r = s.tsrun(['run', '--bundle', s.bundle(id, edit), id]);
      expect(r.status, r.stdout).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(existsSync(join(s.root, id))).toBe(false);
    };
    refused('fakeproc', (c) => {
      c.mounts = c.mounts.map((m: { destination: string }) => (m.destination === '/proc' ? { destination: '/proc', type: 'bind', source: fake, options: ['rbind'] } : m));
    }, /mounts\[0\]: \/proc must be a procfs mount .*; this one is a bind of /);
    refused('undersys', (c) => {
      c.mounts.push({ destination: '/proc/sys', type: 'bind', source: fake, options: ['rbind'] });
    }, /\/proc\/sys is inside \/proc, which a bind or device mount may not cover/);
    // The image's own symlink into /proc, followed as the container would follow it.
    const image = join(s.dir, 'symlinked-rootfs');
    cpSync(exampleRootfs, image, { recursive: true, verbatimSymlinks: true });
    symlinkSync('/proc/sys/kernel', join(image, 'etc', 'kernel'));
    refused('viasymlink', (c) => {
      c.root.path = image;
      c.mounts.push({ destination: '/etc/kernel', type: 'bind', source: fake, options: ['rbind'] });
    }, /\/proc\/sys\/kernel \(\/etc\/kernel leads there through a symlink of the image\) is inside \/proc/);
    if (!existsSync('/usr/sbin/runc')) return;
    // runc refuses the first two too.
    for (const id of ['fakeproc', 'undersys']) expect(s.runc(['run', '--bundle', join(s.dir, id), `runc-${id}`]).status, id).not.toBe(0);
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
