import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, sandbox, shell, skipReason, type ConfigObject, type Sandbox } from './support/harness.js';

// The example default-deny profile, exactly as a user would copy it into linux.seccomp.
const profileDir = join(repoRoot, 'examples/seccomp');
const profile = JSON.parse(readFileSync(join(profileDir, 'default.json'), 'utf8'));

const skip = skipReason();

// An everyday shell session: files, pipelines, processes, job control.
const everyday = `
set -e
grep ^Seccomp: /proc/self/status
ls /
cat /etc/motd
echo "passwd root lines: $(grep -c ^root: /etc/passwd)"
mkdir -p /tmp/w/a/b
echo one two three > /tmp/w/a/b/f
cat /tmp/w/a/b/f | tr ' ' '\\n' | sort -r | tr '\\n' ' '; echo
echo "words: $(wc -w < /tmp/w/a/b/f)"
rm -r /tmp/w
test ! -e /tmp/w && echo removed
echo "pid 1 is sh: $(ps -o pid,comm | grep -c '^ *1 sh$')"
sleep 0.1
date -u +%Y | grep -Eq '^[0-9]{4}$' && echo date ok
id
(cd /tmp && pwd; exit 7) || echo "subshell exit $?"
sleep 0.2 & job=$!
wait $job && echo "waited for the background job"
kill -0 $$ && echo "kill -0 ok"
echo end
`;

const everydayOutput = `Seccomp:\t2
bin
dev
etc
home
proc
root
run
sbin
sys
tmp
usr
var
tsrun example rootfs
passwd root lines: 1
two three one 
words: 3
removed
pid 1 is sh: 1
date ok
uid=0(root) gid=0(root)
/tmp
subshell exit 7
waited for the background job
kill -0 ok
end
`;

// Docker-like capabilities plus CAP_SYS_ADMIN: every command below would then
// succeed without a profile (see the control), so a failure is the profile's.
const wideCaps = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_AUDIT_WRITE', 'CAP_SYS_ADMIN',
];

// Each command's exit status goes to stdout; busybox's complaint goes to stderr.
const privileged = `
unshare -U true; echo unshare=$?
mkdir /tmp/m; mount -t tmpfs t /tmp/m; echo mount=$?
umount /tmp/m; echo umount=$?
nsenter -t 1 -u true; echo nsenter=$?
adjtimex >/dev/null; echo adjtimex=$?
chroot / true; echo chroot=$?
echo "linux32: $(linux32 uname -m)"
hostname sp-renamed; echo "hostname: $(hostname)"
echo end
`;

function withCaps(c: ConfigObject, caps: readonly string[]): void {
  c.process.capabilities = { bounding: caps, effective: caps, permitted: caps };
}

// What examples/seccomp/probe.c prints for each probe under the profile, and without it.
const probes: Record<string, [string, string]> = {
  clone: ['ok', 'ok'],
  clone_newuser: ['EPERM', 'ok'],
  clone3: ['ENOSYS', 'ok'],
  pthread: ['ok', 'ok'], // glibc falls back from clone3 to clone
  unshare_files: ['ok', 'ok'],
  unshare_newuser: ['EPERM', 'ok'],
  personality_query: ['ok', 'ok'],
  personality_linux32: ['ok', 'ok'],
  personality_uname26: ['ok', 'ok'],
  personality_norandom: ['EPERM', 'ok'],
  keyctl: ['EPERM', 'ok'],
  ptrace: ['EPERM', 'ok'],
  process_vm_readv: ['EPERM', 'ok'],
  kcmp: ['EPERM', 'ok'],
  bpf: ['EPERM', 'EINVAL'],
  perf_event_open: ['EPERM', 'EFAULT'],
  io_uring_setup: ['EPERM', 'EFAULT'],
  clock_settime: ['EPERM', 'EINVAL'],
  name_to_handle_at: ['EPERM', 'EOVERFLOW'],
  socket: ['ok', 'ok'],
  memfd_create: ['ok', 'ok'],
};

function probeOutput(column: 0 | 1): string {
  return Object.entries(probes).map(([name, results]) => `${name}=${results[column]}\n`).join('');
}

describe.skipIf(skip !== undefined)('the example seccomp profile (examples/seccomp/default.json)', () => {
  let s: Sandbox;
  // Why the probe could not be built (no C compiler or no static libc), or undefined.
  let noProbe: string | undefined;

  beforeAll(() => {
    s = sandbox();
    const rootfs = join(s.dir, 'rootfs');
    if (!existsSync(join(rootfs, 'bin/busybox'))) throw new Error(`the sandbox's rootfs is not at ${rootfs}`);
    const cc = spawnSync('cc', ['-static', '-O1', '-o', join(rootfs, 'bin/sp-probe'), join(profileDir, 'probe.c'), '-lpthread'], { encoding: 'utf8' });
    if (cc.error !== undefined || cc.status !== 0) noProbe = `cannot build examples/seccomp/probe.c: ${cc.error?.message ?? cc.stderr}`;
    if (noProbe !== undefined) console.warn(`skipping the probe.c tests: ${noProbe}`);
  });
  afterAll(() => s.cleanup());

  for (const noNewPrivileges of [true, false]) {
    it(`a busybox shell runs an everyday script (noNewPrivileges ${noNewPrivileges})`, () => {
      const id = `sp-everyday-${noNewPrivileges}`;
      const r = s.tsrun(['run', '--bundle', s.bundle(id, (c) => {
        c.process.noNewPrivileges = noNewPrivileges;
        c.linux.seccomp = profile;
        shell(c, everyday);
      }), id]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(everydayOutput);
    });

    it(`forbidden calls fail with EPERM, even with CAP_SYS_ADMIN, and the shell carries on (noNewPrivileges ${noNewPrivileges})`, () => {
      const id = `sp-denied-${noNewPrivileges}`;
      const r = s.tsrun(['run', '--bundle', s.bundle(id, (c) => {
        c.process.noNewPrivileges = noNewPrivileges;
        withCaps(c, wideCaps);
        c.linux.seccomp = profile;
        shell(c, privileged);
      }), id]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(
        'unshare=1\nmount=1\numount=1\nnsenter=1\nadjtimex=1\n' +
        // chroot is allowed (CAP_SYS_CHROOT decides), as are PER_LINUX32 and sethostname in the container's UTS namespace.
        'chroot=0\nlinux32: i686\nhostname: sp-renamed\nend\n',
      );
      expect(r.stderr).toContain('unshare: unshare(0x10000000): Operation not permitted');
      // busybox mount words EPERM its own way.
      expect(r.stderr).toContain('mount: permission denied (are you root?)');
      expect(r.stderr).toContain("umount: can't unmount /tmp/m: Operation not permitted");
      expect(r.stderr).toContain("nsenter: setns(): can't reassociate to namespace 'uts': Operation not permitted");
      expect(r.stderr).toMatch(/adjtimex: .*Operation not permitted/);
    });

    it(`calls busybox cannot make, from examples/seccomp/probe.c (noNewPrivileges ${noNewPrivileges})`, (ctx) => {
      if (noProbe !== undefined) ctx.skip(noProbe);
      const id = `sp-probe-${noNewPrivileges}`;
      const r = s.tsrun(['run', '--bundle', s.bundle(id, (c) => {
        c.process.noNewPrivileges = noNewPrivileges;
        c.linux.seccomp = profile;
        c.process.args = ['/bin/sp-probe', ...Object.keys(probes)];
      }), id]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(probeOutput(0));
    });
  }

  it('control: without the profile the same commands and probes succeed, so the denials above are the profile\'s', (ctx) => {
    const id = 'sp-control';
    const r = s.tsrun(['run', '--bundle', s.bundle(id, (c) => {
      withCaps(c, wideCaps);
      shell(c, privileged);
    }), id]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('unshare=0\nmount=0\numount=0\nnsenter=0\nadjtimex=0\nchroot=0\nlinux32: i686\nhostname: sp-renamed\nend\n');
    expect(r.stderr).toBe('');

    if (noProbe !== undefined) ctx.skip(noProbe);
    const probeId = 'sp-control-probe';
    const p = s.tsrun(['run', '--bundle', s.bundle(probeId, (c) => {
      c.process.args = ['/bin/sp-probe', ...Object.keys(probes)];
    }), probeId]);
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toBe(probeOutput(1));
  });
});
