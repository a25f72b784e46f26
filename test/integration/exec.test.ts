import { spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRunc, sandbox, type Sandbox, sessionOf, skipReason } from './support/harness.js';

const skip = skipReason();

/** Soft and hard limit of one resource, as /proc/<pid>/limits shows them. */
function limitOf(pid: number, name: string): string[] {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith(name));
  return line?.slice(name.length).trim().split(/\s+/).slice(0, 2) ?? [];
}

/** What the kernel shows of an exec'd process's limits, from the host: rlimits, oom_score_adj, I/O priority (ioprio_get, by util-linux's ionice). */
function limitsOf(pid: number): { nofile: string[]; core: string[]; oomScoreAdj: string; ioPriority: string } {
  return {
    nofile: limitOf(pid, 'Max open files'),
    core: limitOf(pid, 'Max core file size'),
    oomScoreAdj: readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim(),
    ioPriority: spawnSync('ionice', ['-p', String(pid)], { encoding: 'utf8' }).stdout.trim(),
  };
}

describe.skipIf(skip !== undefined)('tsrun exec', () => {
  let s: Sandbox;
  beforeAll(() => {
    s = sandbox();
  });
  afterAll(() => s.cleanup());


  const nsOf = (pid: number, type: string) => readlinkSync(`/proc/${pid}/ns/${type}`);

  it("runs in the container's pid namespace, hostname and capabilities, and returns the exit code", () => {
    s.running('ex-basic');
    const r = s.tsrun(['exec', 'ex-basic', 'sh', '-c', 'echo pid=$$; hostname; grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status; ps -o pid,comm; exit 7']);
    expect(r.status, r.stderr).toBe(7);
    // Not pid 1 (the init is), but small: numbered in the container's pid namespace.
    expect(r.stdout).toMatch(/^pid=([2-9]|\d\d)$/m);
    expect(r.stdout).toContain('tsrun-test\n');
    // CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE, as in the config.
    expect(r.stdout).toMatch(/CapEff:\s+0000000020000420/);
    expect(r.stdout).toMatch(/CapBnd:\s+0000000020000420/);
    expect(r.stdout).toMatch(/NoNewPrivs:\s+1/);
    expect(r.stdout).toMatch(/^\s*1 sleep$/m);
  });

  it('-d with --pid-file leaves the process running in every namespace and the cgroup of the init', () => {
    const init = s.running('ex-detach');
    const pidFile = join(s.dir, 'exec.pid');
    const r = s.tsrun(['exec', '-d', '--pid-file', pidFile, 'ex-detach', 'sleep', '1000']);
    expect(r.status, r.stderr).toBe(0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    for (const type of ['pid', 'net', 'ipc', 'uts', 'mnt', 'cgroup']) expect(nsOf(pid, type), type).toBe(nsOf(init, type));
    expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toBe(readFileSync(`/proc/${init}/cgroup`, 'utf8'));
    // Rooted where the init is: the same directory, not the host's /.
    const root = statSync(`/proc/${pid}/root`);
    const initRoot = statSync(`/proc/${init}/root`);
    expect([root.dev, root.ino]).toEqual([initRoot.dev, initRoot.ino]);
    // delete kills what exec started too.
    expect(s.tsrun(['delete', '--force', 'ex-detach']).status).toBe(0);
    expect(() => statSync(`/proc/${pid}/root`)).toThrow();
  });

  it('applies --env, --user, --cwd, --cap and --no-new-privs over the config, and passes the command its own flags', () => {
    s.running('ex-flags', (c) => {
      c.process.noNewPrivileges = false;
    });
    const r = s.tsrun([
      'exec', '-e', 'FOO=bar', '-e', 'PATH=/bin', '--user', '1000:1001', '--cwd', '/tmp', '--cap', 'CAP_SYS_ADMIN', '--no-new-privs',
      'ex-flags', 'sh', '-c', 'echo "$FOO $PATH"; id -u; id -g; pwd; grep -E "^(CapBnd|NoNewPrivs)" /proc/self/status',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, 4)).toEqual(['bar /bin', '1000', '1001', '/tmp']);
    // CAP_SYS_ADMIN (21) joins the bounding set; a uid other than 0 keeps no effective capabilities.
    expect(r.stdout).toMatch(/CapBnd:\s+0000000020200420/);
    expect(r.stdout).toMatch(/NoNewPrivs:\s+1/);
  });

  it('sets HOME from the container\'s /etc/passwd when the env has none, for the init and an exec; "/" for an unknown uid', () => {
    const init = s.tsrun(['run', '--bundle', s.bundle('home-run', (c) => {
      c.process.args = ['sh', '-c', 'echo "init=$HOME"'];
    }), 'home-run']);
    expect(init.stdout, init.stderr).toBe('init=/root\n');
    s.running('home-init');
    const root = s.tsrun(['exec', 'home-init', 'sh', '-c', 'echo "exec=$HOME"']);
    expect(root.stdout).toBe('exec=/root\n');
    const stranger = s.tsrun(['exec', '--user', '4242', 'home-init', 'sh', '-c', 'echo "exec=$HOME"']);
    expect(stranger.stdout).toBe('exec=/\n');
    const given = s.tsrun(['exec', '--env', 'HOME=/data', 'home-init', 'sh', '-c', 'echo "exec=$HOME"']);
    expect(given.stdout).toBe('exec=/data\n');
    const log = s.tsrun(['delete', '--force', 'home-init']);
    expect(log.status, log.stderr).toBe(0);
  });

  it("leads a process group and a session of its own, as runc's exec process does (pgid = sid = its pid)", () => {
    const init = s.running('ex-pgrp');
    const r = s.tsrun(['exec', 'ex-pgrp', 'cat', '/proc/self/stat']);
    expect(r.status, r.stderr).toBe(0);
    const inside = sessionOf(r.stdout);
    expect(inside).toMatchObject({ pgid: inside.pid, sid: inside.pid, tty: 0 });
    // Seen from the host, detached: neither the init's session nor tsrun's caller's.
    const pidFile = join(s.dir, 'pgrp.pid');
    expect(s.tsrun(['exec', '-d', '--pid-file', pidFile, 'ex-pgrp', 'sleep', '1000']).status).toBe(0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(sessionOf(readFileSync(`/proc/${pid}/stat`, 'utf8'))).toMatchObject({ pgid: pid, sid: pid });
    expect(sessionOf(readFileSync(`/proc/${init}/stat`, 'utf8')).sid).not.toBe(pid);
    if (!hasRunc) return;
    // runc on the same bundle: the same shape.
    expect(s.runc(['run', '-d', '--bundle', join(s.dir, 'ex-pgrp'), 'runc-pgrp'], { detached: true }).status).toBe(0);
    const ref = s.runc(['exec', 'runc-pgrp', 'cat', '/proc/self/stat']);
    expect(ref.status, ref.stderr).toBe(0);
    const runcs = sessionOf(ref.stdout);
    expect(runcs).toMatchObject({ pgid: runcs.pid, sid: runcs.pid, tty: 0 });
  });

  it('sets process.rlimits, oomScoreAdj and ioPriority on an exec process, from the config or --process, as the kernel shows them', () => {
    const limited = (c: { process: Record<string, unknown> }) => {
      c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1000, hard: 1001 }, { type: 'RLIMIT_CORE', soft: 4096, hard: 8192 }];
      c.process.oomScoreAdj = 100;
      c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 6 };
    };
    s.running('ex-limits', limited);
    const pidFile = join(s.dir, 'limits.pid');
    const detached = (...args: string[]) => {
      const r = s.tsrun(['exec', '-d', '--pid-file', pidFile, ...args]);
      expect(r.status, r.stderr).toBe(0);
      return limitsOf(Number(readFileSync(pidFile, 'utf8')));
    };
    const ours = limitsOf(process.pid);
    // Without --process: the container's process, with its limits.
    expect(detached('ex-limits', 'sleep', '1000')).toEqual({ nofile: ['1000', '1001'], core: ['4096', '8192'], oomScoreAdj: '100', ioPriority: 'best-effort: prio 6' });
    // A --process with limits of its own gets them.
    const own = join(s.dir, 'limits-own.json');
    writeFileSync(own, JSON.stringify({
      args: ['sleep', '1000'], cwd: '/', env: ['PATH=/bin'],
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 500, hard: 600 }, { type: 'RLIMIT_CORE', soft: 1234, hard: 5678 }],
      oomScoreAdj: 321,
      ioPriority: { class: 'IOPRIO_CLASS_IDLE', priority: 0 },
    }));
    expect(detached('--process', own, 'ex-limits')).toEqual({ nofile: ['500', '600'], core: ['1234', '5678'], oomScoreAdj: '321', ioPriority: 'idle' });
    // A --process without them: tsrun's own rlimits and I/O priority, but the container's oomScoreAdj (runc's rule, below).
    const bare = join(s.dir, 'limits-bare.json');
    writeFileSync(bare, JSON.stringify({ args: ['sleep', '1000'], cwd: '/', env: ['PATH=/bin'] }));
    expect(detached('--process', bare, 'ex-limits')).toEqual({ ...ours, oomScoreAdj: '100' });
    if (!hasRunc) return;
    // runc on the same bundle, for what runc 1.1 applies (it has no ioPriority): the same rlimits and oom_score_adj.
    // (Not RLIMIT_NOFILE: the Go runtime of `runc init` may raise its soft limit to the hard one before it execs.)
    expect(s.runc(['run', '-d', '--bundle', join(s.dir, 'ex-limits'), 'runc-limits'], { detached: true }).status).toBe(0);
    const withRunc = (...args: string[]) => {
      expect(s.runc(['exec', '-d', '--pid-file', pidFile, ...args], { detached: true }).status).toBe(0);
      const { core, oomScoreAdj } = limitsOf(Number(readFileSync(pidFile, 'utf8')));
      return { core, oomScoreAdj };
    };
    expect(withRunc('runc-limits', 'sleep', '1000')).toEqual({ core: ['4096', '8192'], oomScoreAdj: '100' });
    expect(withRunc('--process', bare, 'runc-limits')).toEqual({ core: ours.core, oomScoreAdj: '100' });
  });

  it('runs a process.json as given, and refuses an invalid one naming the file and the field', () => {
    s.running('ex-process');
    const good = join(s.dir, 'process.json');
    writeFileSync(good, JSON.stringify({ args: ['sh', '-c', 'id -u; echo $X'], cwd: '/', user: { uid: 5, gid: 6 }, env: ['X=from-file'] }));
    const r = s.tsrun(['exec', '--process', good, 'ex-process']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('5\nfrom-file\n');
    const bad = join(s.dir, 'bad-process.json');
    writeFileSync(bad, JSON.stringify({ args: ['true'], cwd: 'relative' }));
    const b = s.tsrun(['exec', '--process', bad, 'ex-process']);
    expect(b.status).not.toBe(0);
    expect(b.stderr).toContain(`${bad}: /cwd: must be an absolute path`);
  });

  it("gives back the signal dispositions Node changed: nothing is ignored or blocked", () => {
    s.running('ex-signals');
    const r = s.tsrun(['exec', 'ex-signals', 'grep', '-E', '^Sig(Ign|Blk)', '/proc/self/status']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n');
  });

  it('hands the process only stdio: no fd of tsrun reaches it', () => {
    s.running('ex-fds');
    const r = s.tsrun(['exec', 'ex-fds', 'ls', '/proc/self/fd']);
    expect(r.status, r.stderr).toBe(0);
    // ls itself opens the directory it lists (fd 3).
    expect(r.stdout.trim().split('\n').sort()).toEqual(['0', '1', '2', '3']);
  });

  it("applies the container's seccomp profile to the new process", () => {
    s.running('ex-seccomp', (c) => {
      c.linux.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_AARCH64'],
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
      };
    });
    const r = s.tsrun(['exec', 'ex-seccomp', 'sh', '-c', 'grep ^Seccomp: /proc/self/status; mkdir /tmp/x; echo mkdir=$?']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Seccomp:\s+2/);
    expect(r.stdout).toContain('mkdir=1');
  });

  it("enters the container's user namespace first, with its mappings", () => {
    s.running('ex-userns', (c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    });
    const r = s.tsrun(['exec', '--user', '7', 'ex-userns', 'sh', '-c', 'id -u; cat /proc/self/uid_map']);
    expect(r.status, r.stderr).toBe(0);
    const [uid, map] = r.stdout.trim().split('\n');
    expect(uid).toBe('7');
    expect(map?.trim().split(/\s+/)).toEqual(['0', '100000', '65536']);
  });

  it('fails clearly, starting nothing, for a missing command, a stopped container or an unknown one', () => {
    const init = s.running('ex-errors');
    const before = readFileSync(`/proc/${init}/task/${init}/children`, 'utf8');
    const missing = s.tsrun(['exec', 'ex-errors', 'no-such-command']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('no-such-command');
    expect(missing.stderr).toContain('executable file not found in $PATH');
    expect(readFileSync(`/proc/${init}/task/${init}/children`, 'utf8')).toBe(before);
    expect(s.tsrun(['kill', 'ex-errors', 'KILL']).status).toBe(0);
    for (let i = 0; i < 50 && JSON.parse(s.tsrun(['state', 'ex-errors']).stdout).status !== 'stopped'; i += 1) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
    const stopped = s.tsrun(['exec', 'ex-errors', 'true']);
    expect(stopped.status).toBe(1);
    expect(stopped.stderr).toContain('cannot exec in a stopped container');
    const unknown = s.tsrun(['exec', 'ex-nosuch', 'true']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('ex-nosuch');
  });
});
