import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleRootfs, sandbox, shell, skipReason, type Sandbox } from './support/harness.js';

const skip = skipReason();

describe.skipIf(skip !== undefined)('config features, checked from inside and outside', () => {
  let s: Sandbox;
  beforeAll(() => {
    s = sandbox();
  });
  afterAll(() => s.cleanup());

  function runOk(name: string, edit: Parameters<Sandbox['bundle']>[1]): string {
    const r = s.tsrun(['run', '--bundle', s.bundle(name, edit), name]);
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  }

  it('a new network namespace has lo up, as under runc: 127.0.0.1 answers', () => {
    const bundle = s.bundle('lo-up', (c) => {
      // busybox nc listens on 127.0.0.1 and a second nc connects to it: it fails while lo is down.
      shell(c, 'cat /sys/class/net/lo/flags; (nc -l -p 4242 > /dev/null &); sleep 0.2; echo hi | nc -w 1 127.0.0.1 4242 && echo connected');
    });
    const tsrun = s.tsrun(['run', '--bundle', bundle, 'lo-up']);
    expect(tsrun.status, tsrun.stderr).toBe(0);
    const runc = spawnSync('runc', ['--root', join(s.dir, 'runc-state'), 'run', '--bundle', bundle, 'lo-up-runc'], { encoding: 'utf8', timeout: 30_000 });
    expect(runc.stdout, runc.stderr).toBe('0x9\nconnected\n');
    expect(tsrun.stdout).toBe(runc.stdout);
  });

  it('sets domainname, sysctl (in the container network namespace) and oom_score_adj', () => {
    const out = runOk('ident', (c) => {
      c.domainname = 'example.test';
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
      c.process.oomScoreAdj = 321;
      shell(c, 'cat /proc/sys/kernel/domainname /proc/sys/net/ipv4/ip_forward /proc/self/oom_score_adj');
    });
    expect(out.trim().split('\n')).toEqual(['example.test', '1', '321']);
    // The host's own value is untouched.
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).not.toBe('');
  });

  it('a time namespace applies linux.timeOffsets', () => {
    const out = runOk('time', (c) => {
      c.linux.namespaces.push({ type: 'time' });
      c.linux.timeOffsets = { monotonic: { secs: 86400, nanosecs: 0 }, boottime: { secs: 172800, nanosecs: 0 } };
      shell(c, 'cat /proc/self/timens_offsets; cut -d. -f1 /proc/uptime');
    });
    expect(out).toMatch(/monotonic\s+86400\s+0/);
    expect(out).toMatch(/boottime\s+172800\s+0/);
    const hostUptime = Number(readFileSync('/proc/uptime', 'utf8').split('.')[0]);
    const inside = Number(out.trim().split('\n').pop());
    expect(inside - hostUptime).toBeGreaterThanOrEqual(172800 - 5);
  });

  it('joins another container network and uts namespace by path', () => {
    const first = s.bundle('ns-owner', (c) => {
      c.hostname = 'owner';
      shell(c, 'sleep 1000');
    });
    expect(s.tsrun(['create', '--bundle', first, 'ns-owner']).status).toBe(0);
    const pid = JSON.parse(s.tsrun(['state', 'ns-owner']).stdout).pid as number;
    const out = runOk('ns-joiner', (c) => {
      c.hostname = undefined;
      c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) =>
        n.type === 'network' || n.type === 'uts' ? { type: n.type, path: `/proc/${pid}/ns/${n.type === 'network' ? 'net' : 'uts'}` } : n,
      );
      shell(c, 'readlink /proc/self/ns/net; hostname');
    });
    expect(out.trim().split('\n')).toEqual([readlinkSync(`/proc/${pid}/ns/net`), 'owner']);
    expect(s.tsrun(['delete', '--force', 'ns-owner']).status).toBe(0);
  });

  it('joins another container pid namespace by path', () => {
    const first = s.bundle('pid-owner', (c) => shell(c, 'sleep 1000'));
    expect(s.tsrun(['create', '--bundle', first, 'pid-owner']).status).toBe(0);
    expect(s.tsrun(['start', 'pid-owner']).status).toBe(0);
    const pid = JSON.parse(s.tsrun(['state', 'pid-owner']).stdout).pid as number;
    const out = runOk('pid-joiner', (c) => {
      c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (n.type === 'pid' ? { type: 'pid', path: `/proc/${pid}/ns/pid` } : n));
      shell(c, 'readlink /proc/self/ns/pid; echo $$');
    });
    const [ns, ownPid] = out.trim().split('\n');
    expect(ns).toBe(readlinkSync(`/proc/${pid}/ns/pid`));
    // Not the first process of that namespace: the owner's sleep is pid 1 there.
    expect(Number(ownPid)).toBeGreaterThan(1);
    expect(s.tsrun(['delete', '--force', 'pid-owner']).status).toBe(0);
  });

  it('joins another container user namespace by path and creates the rest inside it', () => {
    const userns = (c: { linux: Record<string, unknown> & { namespaces: unknown[] } }) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    };
    const first = s.bundle('user-owner', (c) => {
      userns(c);
      shell(c, 'sleep 1000');
    });
    expect(s.tsrun(['create', '--bundle', first, 'user-owner']).status).toBe(0);
    const pid = JSON.parse(s.tsrun(['state', 'user-owner']).stdout).pid as number;
    const out = runOk('user-joiner', (c) => {
      c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) =>
        n.type === 'pid' ? { type: 'pid', path: `/proc/${pid}/ns/pid` } : n,
      );
      c.linux.namespaces.push({ type: 'user', path: `/proc/${pid}/ns/user` });
      shell(c, 'readlink /proc/self/ns/user; cat /proc/self/uid_map; hostname');
    });
    const lines = out.trim().split('\n');
    expect(lines[0]).toBe(readlinkSync(`/proc/${pid}/ns/user`));
    expect(lines[1]?.trim().split(/\s+/)).toEqual(['0', '200000', '65536']);
    // Its own (new) uts namespace, made inside the joined user namespace.
    expect(lines[2]).toBe('tsrun-test');
    expect(s.tsrun(['delete', '--force', 'user-owner']).status).toBe(0);
  });

  it('without a mount namespace, mounts are made in the host namespace, chroot-ed into, and removed by delete', () => {
    const rootfs = join(s.dir, 'shared-mnt-rootfs');
    cpSync(exampleRootfs, rootfs, { recursive: true, verbatimSymlinks: true });
    const bundle = s.bundle('sharedmnt', (c) => {
      c.root = { path: rootfs, readonly: false };
      c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'mount');
      c.linux.maskedPaths = [];
      c.linux.readonlyPaths = [];
      shell(c, 'readlink /proc/self/ns/mnt; ls /; sleep 1000');
    });
    expect(s.tsrun(['create', '--bundle', bundle, 'sharedmnt']).status).toBe(0);
    const pid = JSON.parse(s.tsrun(['state', 'sharedmnt']).stdout).pid as number;
    expect(readlinkSync(`/proc/${pid}/ns/mnt`)).toBe(readlinkSync('/proc/self/ns/mnt'));
    expect(readlinkSync(`/proc/${pid}/root`)).toBe(rootfs);
    const hostMounts = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(` ${rootfs}/`));
    expect(hostMounts().length).toBeGreaterThan(3);
    expect(s.tsrun(['delete', '--force', 'sharedmnt']).status).toBe(0);
    expect(hostMounts()).toEqual([]);
  });

  it('masked paths without a private mount namespace are refused', () => {
    const r = s.tsrun(['create', '--bundle', s.bundle('nomnt', (c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'mount');
    }), 'nomnt']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/maskedPaths\/readonlyPaths: masking paths needs a private mount namespace/);
  });

  it("joins a session keyring of its own (not the caller's), unless --no-new-keyring", () => {
    const keys = (flags: string[], id: string) => {
      const r = s.tsrun(['run', ...flags, '--bundle', s.bundle(id, (c) => {
        c.linux.maskedPaths = c.linux.maskedPaths.filter((p: string) => p !== '/proc/keys');
        shell(c, 'grep " keyring " /proc/keys | grep -c _ses.; grep -o "_ses[^:]*" /proc/keys || true');
      }), id]);
      expect(r.status, r.stderr).toBe(0);
      return r.stdout;
    };
    expect(keys([], 'keyring')).toContain('_ses.keyring');
    expect(keys(['--no-new-keyring'], 'oldkeyring')).not.toContain('_ses.oldkeyring');
  });

  it('--no-pivot runs the container from a chroot over a moved rootfs', () => {
    const r = s.tsrun(['run', '--no-pivot', '--bundle', s.bundle('nopivot', (c) => shell(c, 'cat /etc/motd; echo $$')), 'nopivot']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['tsrun example rootfs', '1']);
  });

  it('bind mounts a file and a directory, read-only where asked', () => {
    const data = join(s.dir, 'data');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'hello.txt'), 'from the host\n');
    writeFileSync(join(s.dir, 'single.conf'), 'single file\n');
    const out = runOk('binds', (c) => {
      c.mounts.push({ destination: '/mnt/data', type: 'bind', source: data, options: ['rbind', 'ro'] });
      c.mounts.push({ destination: '/etc/single.conf', type: 'bind', source: join(s.dir, 'single.conf'), options: ['bind'] });
      shell(c, 'cat /mnt/data/hello.txt /etc/single.conf; touch /mnt/data/new 2>&1; echo touch=$?');
    });
    expect(out).toContain('from the host');
    expect(out).toContain('single file');
    expect(out).toContain('touch=1');
    expect(existsSync(join(data, 'new'))).toBe(false);
  });

  it('recursive mount options (rro) reach every mount under the destination', () => {
    const out = runOk('rro', (c) => {
      c.mounts.push({ destination: '/hostsys', type: 'bind', source: '/sys', options: ['rbind', 'rro'] });
      shell(c, 'grep " /hostsys/fs/cgroup/unified " /proc/self/mountinfo');
    });
    // The submount came with the rbind, and rro made it read-only too.
    expect(out).toMatch(/ \/hostsys\/fs\/cgroup\/unified ro[, ]/);
  });

  it('a user namespace without its own network namespace gets the host /sys bound, read-only', () => {
    const out = runOk('sysbind', (c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'network');
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      shell(c, 'grep " /sys " /proc/self/mountinfo; ls /sys/class/net | head -1');
    });
    expect(out).toMatch(/ \/sys ro[, ].* - sysfs /);
  });

  it('a symlink in the rootfs cannot send a mount destination outside it', () => {
    // A private rootfs copy whose /escape points at a host directory.
    const rootfs = join(s.dir, 'evil-rootfs');
    mkdirSync(rootfs);
    for (const d of ['bin', 'proc', 'dev', 'sys', 'tmp', 'etc']) mkdirSync(join(rootfs, d));
    symlinkSync('/work/main/examples/rootfs/bin/busybox', join(rootfs, 'bin/busybox'));
    const hostTarget = join(s.dir, 'host-target');
    mkdirSync(hostTarget);
    symlinkSync(hostTarget, join(rootfs, 'escape'));
    const r = s.tsrun(['create', '--bundle', s.bundle('evil', (c) => {
      c.root = { path: rootfs, readonly: false };
      c.mounts.push({ destination: '/escape/inner', type: 'tmpfs', source: 'tmpfs' });
      c.process.args = ['/bin/busybox', 'true'];
    }), 'evil']);
    // Either way, nothing was created or mounted in the host directory.
    expect(existsSync(join(hostTarget, 'inner'))).toBe(false);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(hostTarget);
    if (r.status === 0) s.tsrun(['delete', '--force', 'evil']);
  });

  it('runs every hook kind with the state on stdin, createContainer inside the container namespaces', () => {
    const log = join(s.dir, 'hooks.log');
    const hook = (name: string) => ({
      path: '/bin/sh',
      args: ['sh', '-c', `{ echo "${name} $(readlink /proc/self/ns/net) $(cat)"; } >> ${log}`],
    });
    const bundle = s.bundle('hooks', (c) => {
      c.hostname = 'hooked';
      // startContainer runs after pivot_root: the log must be reachable inside too.
      c.mounts.push({ destination: s.dir, type: 'bind', source: s.dir, options: ['bind'] });
      c.hooks = {
        prestart: [hook('prestart')],
        createRuntime: [hook('createRuntime')],
        createContainer: [hook('createContainer')],
        startContainer: [hook('startContainer')],
        poststart: [hook('poststart')],
        poststop: [hook('poststop')],
      };
      shell(c, 'true');
    });
    const r = s.tsrun(['run', '--bundle', bundle, 'hooks']);
    expect(r.status, r.stderr).toBe(0);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    // prestart runs at `start` (config.md), after the create-time hooks.
    expect(lines.map((l) => l.split(' ')[0])).toEqual(['createRuntime', 'createContainer', 'prestart', 'startContainer', 'poststart', 'poststop']);
    // Runtime-namespace hooks share our network namespace; container-namespace
    // hooks (createContainer, startContainer) run in the container's.
    const hostNet = readlinkSync('/proc/self/ns/net');
    const nets = lines.map((l) => l.split(' ')[1]);
    expect([nets[0], nets[2], nets[4], nets[5]]).toEqual([hostNet, hostNet, hostNet, hostNet]);
    expect(nets[1]).not.toBe(hostNet);
    expect(nets[3]).toBe(nets[1]);
    const state = (i: number) => JSON.parse(lines[i]?.split(' ').slice(2).join(' ') ?? '{}');
    expect(state(0)).toMatchObject({ id: 'hooks', status: 'creating', bundle });
    expect(state(0).pid).toBeGreaterThan(0);
    expect(state(2)).toMatchObject({ status: 'created' });
    expect(state(3)).toMatchObject({ status: 'created' });
    expect(state(4)).toMatchObject({ status: 'running' });
    expect(state(5)).toMatchObject({ status: 'stopped' });
  });

  it("startContainer hooks run in the container as its process would: its pid namespace, root, user, capabilities and seccomp, before the program", () => {
    const out = join(s.dir, 'starthook-out');
    mkdirSync(out);
    chmodSync(out, 0o777);
    const view = [
      'echo "$HOOK_VAR"',
      'echo $$',
      'id -u',
      'grep CapBnd /proc/self/status | cut -f2',
      'mkdir /tmp/x 2>/dev/null && echo mkdir-allowed || echo mkdir-denied',
      'test -e /out/main && echo program-ran || echo program-not-yet',
      'cat',
    ].join('; ');
    const bundle = s.bundle('starthook', (c) => {
      c.mounts.push({ destination: '/out', type: 'bind', source: out, options: ['rbind', 'rw'] });
      c.process.user = { uid: 1000, gid: 1000 };
      // A profile the hook is under too: mkdir is EPERM.
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
      c.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', `{ ${view}; } > /out/view`], env: ['HOOK_VAR=from-hook', 'PATH=/bin'] }] };
      shell(c, 'touch /out/main');
    });
    const r = s.tsrun(['run', '--bundle', bundle, 'starthook']);
    expect(r.status, r.stderr).toBe(0);
    const [env, pid, uid, capBnd, mkdir, order, state] = readFileSync(join(out, 'view'), 'utf8').trim().split('\n');
    expect(env).toBe('from-hook');
    expect(Number(pid)).toBeGreaterThan(1);
    expect(Number(pid)).toBeLessThan(100);
    expect(uid).toBe('1000');
    // CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE: the container's bounding set (as uid 1000
    // after execve it has no effective capability, as the program itself).
    expect(capBnd).toBe('0000000020000420');
    expect(mkdir).toBe('mkdir-denied');
    expect(order).toBe('program-not-yet');
    expect(JSON.parse(state ?? '{}')).toMatchObject({ id: 'starthook', status: 'created', bundle });
    expect(existsSync(join(out, 'main')), 'the program ran after the hook').toBe(true);
  });

  it('a failing startContainer hook fails start with its output, and the container is stopped and deleted (poststop runs)', () => {
    const log = join(s.dir, 'starthook-fail.log');
    const r = s.tsrun(['run', '--bundle', s.bundle('starthook-fail', (c) => {
      c.hooks = {
        startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo hook-says-no; exit 3'] }],
        poststop: [{ path: '/bin/sh', args: ['sh', '-c', `echo poststop >> ${log}`] }],
      };
    }), 'starthook-fail']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('startContainer hook #0 (/bin/sh) exited with status 3; output: hook-says-no');
    expect(existsSync(join(s.root, 'starthook-fail')), 'the container is deleted').toBe(false);
    expect(readFileSync(log, 'utf8')).toBe('poststop\n');
  });

  it('a startContainer hook whose path is not an executable in the container fails start, naming it', () => {
    const r = s.tsrun(['run', '--bundle', s.bundle('starthook-missing', (c) => {
      c.hooks = { startContainer: [{ path: '/no/such/hook' }] };
    }), 'starthook-missing']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('startContainer hook #0 (/no/such/hook) could not be run: /no/such/hook is not an executable file in the container');
    expect(existsSync(join(s.root, 'starthook-missing'))).toBe(false);
  });

  it('a startContainer hook past its timeout is killed, and start fails', () => {
    const r = s.tsrun(['run', '--bundle', s.bundle('starthook-slow', (c) => {
      c.hooks = { startContainer: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] };
    }), 'starthook-slow']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('startContainer hook #0 (/bin/sleep) did not finish within its timeout of 1s and was killed');
    expect(existsSync(join(s.root, 'starthook-slow'))).toBe(false);
  });

  it("joining the host's own mount namespace is refused", () => {
    const r = s.tsrun(['create', '--bundle', s.bundle('hostmnt', (c) => {
      c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (n.type === 'mount' ? { type: 'mount', path: `/proc/${process.pid}/ns/mnt` } : n));
    }), 'hostmnt']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/is the host's mount namespace/);
  });

  it('a failing poststart hook is a warning: the other hooks run and the container keeps running', () => {
    const log = join(s.dir, 'poststart.log');
    const bundle = s.bundle('poststartfail', (c) => {
      c.hooks = {
        poststart: [
          { path: '/bin/sh', args: ['sh', '-c', 'exit 1'] },
          { path: '/bin/sh', args: ['sh', '-c', `echo second >> ${log}`] },
        ],
      };
      shell(c, 'sleep 1000');
    });
    expect(s.tsrun(['create', '--bundle', bundle, 'poststartfail']).status).toBe(0);
    const start = s.tsrun(['start', 'poststartfail']);
    expect(start.status, start.stderr).toBe(0);
    expect(start.stderr).toMatch(/level=warning.*poststart hook #0/);
    expect(readFileSync(log, 'utf8')).toBe('second\n');
    expect(JSON.parse(s.tsrun(['state', 'poststartfail']).stdout).status).toBe('running');
    expect(s.tsrun(['delete', '--force', 'poststartfail']).status).toBe(0);
  });

  it('a failing prestart hook fails start, deletes the container, and runs poststop', () => {
    const log = join(s.dir, 'prestartfail.log');
    const bundle = s.bundle('prestartfail', (c) => {
      c.hooks = {
        prestart: [{ path: '/bin/false', args: ['false'] }],
        poststop: [{ path: '/bin/sh', args: ['sh', '-c', `echo poststop >> ${log}`] }],
      };
      shell(c, 'sleep 1000');
    });
    expect(s.tsrun(['create', '--bundle', bundle, 'prestartfail']).status).toBe(0);
    const pid = JSON.parse(s.tsrun(['state', 'prestartfail']).stdout).pid as number;
    const start = s.tsrun(['start', 'prestartfail']);
    expect(start.status).not.toBe(0);
    expect(start.stderr).toMatch(/prestart hook #0 \(\/bin\/false\) exited with status 1/);
    expect(s.tsrun(['state', 'prestartfail']).status).not.toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('poststop\n');
    expect(readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2]).toMatch(/[ZX]/);
  });

  it('a failing createRuntime hook fails create, runs poststop, and leaves nothing', () => {
    const log = join(s.dir, 'failhook.log');
    const bundle = s.bundle('failhook', (c) => {
      c.hooks = {
        createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'echo boom >&2; exit 3'] }],
        poststop: [{ path: '/bin/sh', args: ['sh', '-c', `echo poststop >> ${log}`] }],
      };
    });
    const r = s.tsrun(['create', '--bundle', bundle, 'failhook']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/createRuntime hook #0 .*exited with status 3.*boom/s);
    expect(readFileSync(log, 'utf8')).toBe('poststop\n');
    expect(existsSync(join(s.root, 'failhook'))).toBe(false);
  });
});
