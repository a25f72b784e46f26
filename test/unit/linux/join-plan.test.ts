import { describe, expect, it } from 'vitest';
import { planJoin, type JoinPlanInput } from '../../../src/linux/join-plan.js';
import type { CompiledSeccomp } from '../../../src/linux/seccomp/compile-profile.js';
import { CHANNEL, JOIN_PROC as proc, joinInput as input } from './fixtures.js';
import { mustFind, render, replayFds } from './steps.js';

function inherited(i: JoinPlanInput): Map<number, string> {
  const fds = new Map<number, string>([
    [0, 'stdin'],
    [1, 'stdout'],
    [2, 'stderr'],
    [i.rootFd, 'init root'],
    [CHANNEL.syncRead, 'sync read'],
    [CHANNEL.reportWrite, 'report write'],
  ]);
  for (const { type, fd } of i.namespaceFds) fds.set(fd, `${type} ns`);
  // Node's own fds, which the chain must close.
  fds.set(5, 'node epoll');
  fds.set(30, 'node pipe');
  return fds;
}

describe('planJoin', () => {
  it('enters the namespaces in the order given, user first, then takes the init root, before any credential change', () => {
    const lines = render(planJoin(input()).steps);
    const spawned = mustFind(lines, 'checkpoint spawned');
    const user = mustFind(lines, 'setns(23, CLONE_NEWUSER) ?report');
    const ipc = mustFind(lines, 'setns(24, CLONE_NEWIPC) ?report');
    const mount = mustFind(lines, 'setns(25, CLONE_NEWNS) ?report');
    const fchdir = mustFind(lines, 'fchdir(26) ?report');
    const chroot = mustFind(lines, 'chroot(".") ?report');
    const setuid = mustFind(lines, /^syscall\(SYS_setresuid, 1000, 1000, 1000\)/);
    expect(spawned < user && user < ipc && ipc < mount && mount < fchdir && fchdir < chroot && chroot < setuid).toBe(true);
    mustFind(lines, 'syscall(SYS_keyctl, 1, "_ses.c1") ?report tolerate=ENOSYS');
    mustFind(lines, 'chdir("/tmp") ?report', chroot);
  });

  it('closes every fd but stdio, the preserved ones and its own; nothing it opened is left at execve but the close-on-exec pipes', () => {
    for (const preservedFds of [0, 2]) {
      const i = input({ preservedFds });
      const { steps } = planJoin(i);
      const fds = inherited(i);
      for (let fd = 3; fd < 3 + preservedFds; fd += 1) fds.set(fd, `preserved ${fd}`);
      const replay = replayFds(steps, fds);
      expect(replay.problems).toEqual([]);
      const execve = steps.findIndex((s) => s.kind === 'call' && s.fn === 'execve');
      expect([...(replay.before[execve]?.keys() ?? [])].sort((a, b) => a - b)).toEqual([
        0, 1, 2, ...Array.from({ length: preservedFds }, (_, k) => 3 + k), CHANNEL.syncRead, CHANNEL.reportWrite,
      ]);
    }
  });

  it('waits at "ready" and then execs at once: no exec fifo, and no release of memory it would hold for a moment only', () => {
    const lines = render(planJoin(input()).steps);
    expect(lines).not.toContain('release-memory');
    const ready = mustFind(lines, 'checkpoint ready');
    expect(lines.slice(ready + 1, ready + 3)).toEqual([
      'prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0)',
      'execve(&buf"\\u0000/bin/sh\\u0000"+1, ["/bin/sh", "-c", "true"], ["PATH=/bin"])',
    ]);
  });

  it("installs the container's seccomp filter: before the credentials without no_new_privs, as the last step with it", () => {
    const seccomp: CompiledSeccomp = { filter: new Uint8Array(16), flags: 0, unknownSyscalls: [], notify: false };
    const late = render(planJoin(input({ seccomp })).steps);
    expect(late.findIndex((l) => l.startsWith('syscall(SYS_seccomp'))).toBeGreaterThan(mustFind(late, 'checkpoint ready'));
    const early = planJoin(input({ seccomp, proc: { ...proc, noNewPrivileges: false } }));
    const lines = render(early.steps);
    expect(lines.findIndex((l) => l.startsWith('syscall(SYS_seccomp'))).toBeLessThan(mustFind(lines, /^syscall\(SYS_setresuid/));
    expect(early.credentials.seccompBeforeReady).toBe(true);
  });

  it("leads a session and process group of its own, as runc's exec process does: setsid once, in the process that execs", () => {
    for (const namespaceFds of [input().namespaceFds, [...input().namespaceFds, { type: 'pid' as const, fd: 27 }]]) {
      const lines = render(planJoin(input({ namespaceFds })).steps);
      expect(lines.filter((l) => l.startsWith('setsid('))).toEqual(['setsid() ?report']);
      const setsid = mustFind(lines, 'setsid() ?report');
      // After the fork into a pid namespace (the forker exits), and before the credentials drop.
      expect(setsid).toBeGreaterThan(mustFind(lines, 'chroot(".") ?report'));
      expect(setsid).toBeLessThan(mustFind(lines, /^syscall\(SYS_setresuid/));
    }
  });

  it('expects the credentials of the process it was given', () => {
    const { credentials } = planJoin(input({ setgroupsAllowed: false, proc: { ...proc, user: { uid: 7, gid: 8 } } }));
    expect(credentials).toMatchObject({ uid: 7, gid: 8, groups: undefined, effective: 1n << 5n, noNewPrivileges: true });
  });
});

describe('planJoin with stdio of its own (a startContainer hook)', () => {
  it('makes the given fds its stdin, stdout and stderr before anything else, and closes the originals once', () => {
    const i = input({ stdio: [40, 41, 41] });
    const { steps } = planJoin(i);
    const lines = render(steps);
    const dup = mustFind(lines, 'dup2(40, 0) ?report');
    expect(lines.slice(dup, dup + 5)).toEqual(['dup2(40, 0) ?report', 'dup2(41, 1) ?report', 'dup2(41, 2) ?report', 'close(40) ?report', 'close(41) ?report']);
    expect(dup).toBeLessThan(mustFind(lines, 'checkpoint spawned'));
    const fds = inherited(i);
    fds.set(40, 'hook stdin');
    fds.set(41, 'hook output');
    expect(replayFds(steps, fds).problems).toEqual([]);
  });
});

describe('planJoin with a terminal', () => {
  it('opens a pty in the container, stops for the parent to take the master, then makes the slave its stdio and controlling terminal', () => {
    const i = input({ proc: { ...proc, terminal: true } });
    const { steps, pty } = planJoin(i);
    const lines = render(steps);
    expect(pty).toEqual({ master: 3, slave: 4 });
    const chroot = mustFind(lines, 'chroot(".") ?report');
    const open = mustFind(lines, /^syscall\(SYS_openat2, -100, "dev\/ptmx", .*O_RDWR\|O_NOCTTY\|O_CLOEXEC.*RESOLVE_IN_ROOT/, chroot);
    expect(lines.slice(open + 1, open + 12)).toEqual([
      'ioctl(3, 1074025521, &buf"\\u0000\\u0000\\u0000\\u0000") ?report',
      'ioctl(3, 21569, 258) ?report',
      'checkpoint terminal',
      'close(3) ?report',
      'dup2(4, 0) ?report',
      'dup2(4, 1) ?report',
      'dup2(4, 2) ?report',
      'close(4) ?report',
      'setsid() ?report',
      'ioctl(0, 21518, 0) ?report',
      expect.stringMatching(/^prctl\(PR_SET_KEEPCAPS/),
    ]);
  });
});

describe('planJoin with linux.personality', () => {
  it("gives the process the container's persona inside its namespaces, before the seccomp filter and the credentials", () => {
    const seccomp: CompiledSeccomp = { filter: new Uint8Array(16), flags: 0, unknownSyscalls: [], notify: false };
    const lines = render(planJoin(input({ seccomp, personality: { domain: 'LINUX32' }, proc: { ...proc, noNewPrivileges: false } })).steps);
    const persona = mustFind(lines, 'personality(8) ?report');
    expect(persona).toBeGreaterThan(mustFind(lines, "chroot(\".\") ?report"));
    expect(persona).toBeLessThan(mustFind(lines, /^syscall\(SYS_seccomp/));
    expect(persona).toBeLessThan(mustFind(lines, /^syscall\(SYS_setresuid/));
    expect(render(planJoin(input()).steps).filter((l) => l.startsWith('personality('))).toEqual([]);
  });
});
