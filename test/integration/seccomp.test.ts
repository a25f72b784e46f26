import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { repoRoot, sandbox, shell, skipReason, type Sandbox } from './support/harness.js';

const skip = skipReason();

describe.skipIf(skip !== undefined)('seccomp', () => {
  let s: Sandbox;
  beforeAll(() => {
    s = sandbox();
  });
  afterAll(() => s.cleanup());

  const denyMkdir = {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_AARCH64'],
    syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
  };

  for (const noNewPrivileges of [true, false]) {
    it(`an ERRNO rule makes mkdir fail with EPERM while the rest works (noNewPrivileges ${noNewPrivileges})`, () => {
      const id = `mkdir-${noNewPrivileges}`;
      const r = s.tsrun(['run', '--bundle', s.bundle(id, (c) => {
        c.process.noNewPrivileges = noNewPrivileges;
        c.linux.seccomp = denyMkdir;
        shell(c, 'grep ^Seccomp: /proc/self/status; mkdir /tmp/x; echo mkdir=$?; touch /tmp/y && echo touch=ok');
      }), id]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/Seccomp:\s+2/);
      expect(r.stdout).toContain('mkdir=1');
      expect(r.stderr).toMatch(/mkdir: can't create directory '\/tmp\/x': Operation not permitted/);
      expect(r.stdout).toContain('touch=ok');
    });
  }

  it('a rule without errnoRet returns EPERM, not the defaultErrnoRet of a default-deny profile', () => {
    // What busybox sh and the commands below need (from strace), plus their usual neighbours.
    const allowed = [
      'execve', 'execveat', 'brk', 'mmap', 'munmap', 'mprotect', 'madvise', 'arch_prctl', 'set_tid_address', 'set_robust_list',
      'rseq', 'prlimit64', 'getrandom', 'readlink', 'readlinkat', 'uname', 'getpid', 'getppid', 'gettid', 'getuid', 'geteuid',
      'getgid', 'getegid', 'getcwd', 'chdir', 'fcntl', 'dup', 'dup2', 'dup3', 'open', 'openat', 'close', 'read', 'write', 'readv',
      'writev', 'pread64', 'lseek', 'stat', 'fstat', 'lstat', 'newfstatat', 'statx', 'access', 'faccessat', 'faccessat2',
      'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'clone', 'clone3', 'fork', 'vfork', 'wait4', 'waitid', 'exit', 'exit_group',
      'futex', 'ioctl', 'getdents64', 'poll', 'ppoll', 'pipe', 'pipe2', 'umask', 'kill', 'tgkill', 'clock_gettime', 'nanosleep',
      'clock_nanosleep', 'getpgrp', 'setpgid', 'getpgid', 'sysinfo', 'utimensat',
    ];
    const r = s.tsrun(['run', '--bundle', s.bundle('errno-default', (c) => {
      c.linux.seccomp = {
        defaultAction: 'SCMP_ACT_ERRNO',
        defaultErrnoRet: 38, // ENOSYS
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_AARCH64'],
        syscalls: [
          { names: allowed, action: 'SCMP_ACT_ALLOW' },
          { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' },
        ],
      };
      // chmod is in neither list: the default action's errno.
      shell(c, 'grep ^Seccomp: /proc/self/status; mkdir /tmp/x; echo mkdir=$?; touch /tmp/y; chmod 600 /tmp/y; echo chmod=$?');
    }), 'errno-default']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Seccomp:\s+2/);
    expect(r.stdout).toContain('mkdir=1');
    expect(r.stderr).toMatch(/mkdir: can't create directory '\/tmp\/x': Operation not permitted/);
    expect(r.stdout).toContain('chmod=1');
    expect(r.stderr).toMatch(/chmod: \/tmp\/y: Function not implemented/);
  });

  it('a rule without errnoRet returns EPERM under an allowing default with a defaultErrnoRet', () => {
    const r = s.tsrun(['run', '--bundle', s.bundle('errno-allow', (c) => {
      c.linux.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        defaultErrnoRet: 38,
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }],
      };
      shell(c, 'mkdir /tmp/x; echo mkdir=$?');
    }), 'errno-allow']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('mkdir=1');
    expect(r.stderr).toMatch(/mkdir: can't create directory '\/tmp\/x': Operation not permitted/);
  });

  it('KILL_PROCESS kills the process that makes the call', () => {
    const r = s.tsrun(['run', '--bundle', s.bundle('killer', (c) => {
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['sync'], action: 'SCMP_ACT_KILL_PROCESS' }] };
      // An external command: its sync(2) kills it with SIGSYS, and the shell carries on.
      shell(c, '/bin/sync; echo status=$?');
    }), 'killer']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(`status=${128 + 31}\n`);
  });

  it('a profile that cannot be honoured fails create and leaves nothing', () => {
    // Valid in the spec, unknown to Debian 12's libseccomp 2.5.4.
    const r = s.tsrun(['create', '--bundle', s.bundle('badarch', (c) => {
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_LOONGARCH64'] };
    }), 'badarch']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/linux\.seccomp\.architectures: libseccomp does not know SCMP_ARCH_LOONGARCH64/);
    expect(existsSync(join(s.root, 'badarch'))).toBe(false);
  });

  it('a schema-invalid profile is refused with its JSON path', () => {
    const r = s.tsrun(['create', '--bundle', s.bundle('nosuch', (c) => {
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_NOSUCH'] };
    }), 'nosuch']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/\/linux\/seccomp\/architectures\/0/);
  });
});

describe.skipIf(skip !== undefined)('seccomp SCMP_ACT_NOTIFY', () => {
  let s: Sandbox;
  beforeAll(() => {
    s = sandbox();
  });
  afterAll(() => s.cleanup());

  it('hands the listener to listenerPath with the container process state; the agent answers for the kernel, for the init and for exec', async () => {
    const socket = join(s.dir, 'agent.sock');
    const agent = spawn('python3', [join(repoRoot, 'test/integration/support/seccomp-agent.py'), socket, '2', '28' /* ENOSPC */], { stdio: ['ignore', 'pipe', 'pipe'] });
    let events = '';
    agent.stdout.on('data', (chunk: Buffer) => (events += chunk.toString()));
    agent.stderr.on('data', (chunk: Buffer) => (events += chunk.toString()));
    const exited = new Promise<void>((resolve) => agent.on('exit', () => resolve()));
    for (let i = 0; i < 100 && !existsSync(socket); i += 1) await new Promise((r) => setTimeout(r, 50));
    const bundle = s.bundle('notify', (c) => {
      c.linux.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_AARCH64'],
        listenerPath: socket,
        listenerMetadata: 'from-the-test',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
      };
      shell(c, 'mkdir /tmp/x; echo mkdir=$?; sleep 1000');
    });
    const run = s.tsrun(['run', '-d', '--bundle', bundle, 'notify']);
    expect(run.status, run.stderr).toBe(0);
    const exec = s.tsrun(['exec', 'notify', 'sh', '-c', 'mkdir /tmp/y 2>&1; echo exec-mkdir=$?']);
    expect(exec.status, exec.stderr).toBe(0);
    expect(exec.stdout).toContain("mkdir: can't create directory '/tmp/y': No space left on device\nexec-mkdir=1");
    s.tsrun(['delete', '--force', 'notify']);
    await exited;
    const states = events.split('\n').filter((l) => l.startsWith('state ')).map((l) => JSON.parse(l.slice(6, l.lastIndexOf(' fds='))));
    expect(states).toHaveLength(2);
    expect(states[0]).toMatchObject({ ociVersion: '1.3.0', fds: ['seccompFd'], metadata: 'from-the-test', state: { id: 'notify', status: 'creating' } });
    expect(states[1]).toMatchObject({ fds: ['seccompFd'], state: { id: 'notify', status: 'running' } });
    expect(states[1].pid).not.toBe(states[0].pid);
    // mkdir (83) or mkdirat (258) on x86_64, once by the init and once by the exec'd shell.
    expect(events.match(/^notified (83|258) pid \d+$/gm)).toHaveLength(2);
  });

  it('refuses a NOTIFY profile without listenerPath, and NOTIFY on read or write, before anything exists', () => {
    for (const [name, seccomp, message] of [
      ['no-listener', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }, 'listenerPath: SCMP_ACT_NOTIFY needs a listener socket'],
      ['notify-write', { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/tmp/none.sock', syscalls: [{ names: ['write'], action: 'SCMP_ACT_NOTIFY' }] }, 'SCMP_ACT_NOTIFY on write'],
    ] as const) {
      const r = s.tsrun(['run', '--bundle', s.bundle(name, (c) => (c.linux.seccomp = seccomp)), name]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(message);
      expect(existsSync(join(s.root, name))).toBe(false);
    }
  });
});
