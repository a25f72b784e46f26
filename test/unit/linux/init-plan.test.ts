import { describe, expect, it } from 'vitest';
import type { ChainStep } from '../../../ffi/chain-step.js';
import type { Spec } from '../../../src/config/types.js';
import { MAX_INIT_STEPS, planInit, type InitPlanInput } from '../../../src/linux/init-plan.js';
import { planNamespaces } from '../../../src/linux/namespaces.js';
import { baseSpec, CHANNEL, FIFO_FD, initInput, layout, parentFds, temporaryDir } from './fixtures.js';
import { lineIndex, mustFind, render, replayFds } from './steps.js';

const USERNS_LINUX: Spec['linux'] = {
  namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'user' }, { type: 'uts' }, { type: 'ipc' }],
  uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
  gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
};

/** A typical config: proc, a tmpfs /dev with devpts, a bind, masked and read-only paths. */
function fullSpec(overrides: Partial<Spec> = {}, linux: Spec['linux'] = {}): Spec {
  const bundle = temporaryDir();
  layout(bundle, { hosts: '127.0.0.1 localhost\n' });
  return baseSpec({
    hostname: 'box',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance'] },
      { destination: '/etc/hosts', type: 'bind', source: `${bundle}/hosts`, options: ['rbind', 'ro'] },
    ],
    process: { cwd: '/', args: ['/bin/sh', '-c', 'true'], env: ['PATH=/bin'], user: { uid: 1000, gid: 1000 } },
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'network' }],
      maskedPaths: ['/proc/kcore'],
      readonlyPaths: ['/proc/sys'],
      sysctl: { 'net.ipv4.ip_forward': '1' },
      ...linux,
    },
    ...overrides,
  });
}

function plan(spec: Spec, overrides: Partial<InitPlanInput> = {}) {
  const result = planInit(initInput(spec, overrides));
  return { ...result, lines: render(result.steps) };
}

const isOpen = (line: string) => line.startsWith('open(') || line.startsWith('syscall(SYS_openat2');
const checkpoints = (steps: readonly ChainStep[]) => steps.flatMap((s) => (s.kind === 'checkpoint' ? [s.name] : []));

describe('planInit', () => {
  it('refuses a plan too long to fit tsrun\'s memory, naming the list that made it long', () => {
    const mounts = Array.from({ length: 2000 }, () => ({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' }));
    expect(() => plan(fullSpec({ mounts }))).toThrow(
      new RegExp(`^the container's setup is \\d+ libc calls, more than tsrun's limit of ${MAX_INIT_STEPS} .*\\(mounts: 2000, linux.maskedPaths: 1, linux.readonlyPaths: 1, linux.sysctl: 1\\)$`),
    );
    // About a thousand mounts still fit.
    expect(plan(fullSpec({ mounts: mounts.slice(0, 950) })).steps.length).toBeLessThanOrEqual(MAX_INIT_STEPS);
  });

  it('meets the parent at spawned, isolated, mounted and ready, in that order, once each', () => {
    expect(checkpoints(plan(fullSpec()).steps)).toEqual(['spawned', 'isolated', 'mounted', 'ready']);
    expect(checkpoints(plan(baseSpec({ linux: USERNS_LINUX })).steps)).toEqual(['spawned', 'isolated', 'mounted', 'ready']);
  });

  it('first sets PDEATHSIG, then closes every inherited fd but the kept ones, before any open', () => {
    const { lines } = plan(fullSpec());
    expect(lines.slice(0, 6)).toEqual([
      'prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0) ?report',
      'prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) ?report',
      'close_range(3, 16, 0) ?report',
      `close_range(19, 20, 0) ?report`,
      'close_range(22, ~0U, 0) ?report',
      'checkpoint spawned',
    ]);
    expect(lines.findIndex(isOpen)).toBeGreaterThan(3);
    expect([FIFO_FD, CHANNEL.syncRead, CHANNEL.reportWrite]).toEqual([17, 18, 21]);
  });

  it('keeps preserved fds and joined namespace fds through the first close_range', () => {
    const spec = baseSpec({ linux: { namespaces: [{ type: 'mount' }, { type: 'network', path: '/run/netns/a' }] } });
    const { lines } = plan(spec, { preservedFds: 2, joinFds: new Map([['network', 25]]) });
    expect(lines.slice(2, 6)).toEqual([
      'close_range(5, 16, 0) ?report',
      'close_range(19, 20, 0) ?report',
      'close_range(22, 24, 0) ?report',
      'close_range(26, ~0U, 0) ?report',
    ]);
    // The host's /proc/self/fd is the first thing opened: fd 5, right above the
    // preserved 3 and 4; the rootfs is next, fd 6.
    expect(lines.filter(isOpen).slice(0, 2)).toEqual([
      'open("/proc/self/fd", O_RDONLY|O_DIRECTORY|O_CLOEXEC|O_PATH, 0o0) ?report',
      'open("/bundles/c1/rootfs", O_RDONLY|O_DIRECTORY|O_CLOEXEC|O_PATH, 0o0) ?report',
    ]);
    expect(lines).toContain('fchdir(6) ?report');
    expect(lines).toContain('openat(5, "17", O_RDONLY|O_CLOEXEC)');
  });

  it('closes inherited fds only at the start of the chain: no close_range after "spawned" (a seccomp filter may forbid it)', () => {
    const cases: Array<[string, Spec, Partial<InitPlanInput>]> = [
      ['typical', fullSpec(), {}],
      ['user namespace', fullSpec({}, USERNS_LINUX), {}],
      ['preserved fds', fullSpec(), { preservedFds: 2 }],
    ];
    for (const [name, spec, overrides] of cases) {
      const { lines } = plan(spec, overrides);
      const spawned = mustFind(lines, 'checkpoint spawned');
      const closeRanges = lines.flatMap((l, i) => (l.startsWith('close_range(') ? [i] : []));
      expect(closeRanges.length, name).toBeGreaterThan(0);
      expect(closeRanges.filter((i) => i > spawned), name).toEqual([]);
    }
  });

  it('predicts every fd right: each one used is open, each one opened is closed', () => {
    const cases: Array<[string, Spec, Partial<InitPlanInput>]> = [
      ['typical', fullSpec(), {}],
      ['user namespace', fullSpec({}, USERNS_LINUX), {}],
      ['preserved fds and a joined namespace', fullSpec({}, { namespaces: [{ type: 'mount' }, { type: 'ipc', path: '/x' }] }), { preservedFds: 2, joinFds: new Map([['ipc', 26]]) }],
      ['no pivot', fullSpec(), { noPivot: true }],
      ['user and cgroup namespaces, session keyring', fullSpec({}, { ...USERNS_LINUX, namespaces: [...(USERNS_LINUX?.namespaces ?? []), { type: 'cgroup' }] }), { sessionKeyring: '_ses.c1' }],
      ['no mount namespace', fullSpec({}, { namespaces: [{ type: 'pid' }], maskedPaths: [], readonlyPaths: [] }), {}],
    ];
    for (const [name, spec, overrides] of cases) {
      const { steps } = plan(spec, overrides);
      const inherited = parentFds([26]);
      for (let fd = 3; fd < 3 + (overrides.preservedFds ?? 0); fd += 1) inherited.set(fd, `preserved ${fd}`);
      const replay = replayFds(steps, inherited);
      expect(replay.problems, name).toEqual([]);
      expect(replay.leaked, name).toEqual(new Map());
      expect([...replay.after.keys()].sort((a, b) => a - b), name).toEqual([0, 1, 2, ...Array.from({ length: overrides.preservedFds ?? 0 }, (_, i) => 3 + i), 18, 21]);
    }
  });

  it('binds the rootfs onto itself after "isolated" and resolves every mount target inside it until pivot_root', () => {
    const { steps, lines } = plan(fullSpec());
    const isolated = mustFind(lines, 'checkpoint isolated');
    expect(lines[isolated + 2]).toBe('mount("/bundles/c1/rootfs", "/bundles/c1/rootfs", null, MS_BIND|MS_REC, null) ?report');
    expect(lines[isolated + 3]).toBe('open("/bundles/c1/rootfs", O_RDONLY|O_DIRECTORY|O_CLOEXEC|O_PATH, 0o0) ?report');
    const pivot = mustFind(lines, 'syscall(SYS_pivot_root, ".", ".") ?report');
    const replay = replayFds(steps, parentFds());
    let mounts = 0;
    for (let i = isolated + 3; i < pivot; i += 1) {
      const step = steps[i];
      if (step?.kind !== 'call' || step.fn !== 'mount') continue;
      mounts += 1;
      expect(step.args[1], lines[i]).toMatch(/^\/proc\/self\/fd\/\d+$/);
      expect(replay.uses[i]?.at(-1)?.what, lines[i]).toMatch(/ \(in \/bundles\/c1\/rootfs\)$/);
    }
    expect(mounts).toBeGreaterThanOrEqual(5);
  });

  it('opens the host\'s /proc/self/fd (O_PATH|O_DIRECTORY, checked) right after "isolated", before the rootfs self-bind', () => {
    const { lines } = plan(fullSpec());
    const isolated = mustFind(lines, 'checkpoint isolated');
    expect(lines.slice(isolated + 1, isolated + 4)).toEqual([
      'open("/proc/self/fd", O_RDONLY|O_DIRECTORY|O_CLOEXEC|O_PATH, 0o0) ?report',
      'mount("/bundles/c1/rootfs", "/bundles/c1/rootfs", null, MS_BIND|MS_REC, null) ?report',
      'open("/bundles/c1/rootfs", O_RDONLY|O_DIRECTORY|O_CLOEXEC|O_PATH, 0o0) ?report',
    ]);
    // Opened once, and only there.
    expect(lines.filter((l) => l.startsWith('open("/proc/self/fd"'))).toHaveLength(1);
  });

  it('reopens the exec fifo through that fd (never by a /proc path, which after pivot_root is the image\'s), then closes it after the fifo fd', () => {
    const cases: Array<[string, Spec, Partial<InitPlanInput>, number]> = [
      ['typical', fullSpec(), {}, 3],
      ['preserved fds', fullSpec(), { preservedFds: 2 }, 5],
      ['user namespace', fullSpec({}, USERNS_LINUX), {}, 3],
      ['no pivot', fullSpec(), { noPivot: true }, 3],
    ];
    for (const [name, spec, overrides, dirFd] of cases) {
      const { steps, lines } = plan(spec, overrides);
      const inherited = parentFds();
      for (let fd = 3; fd < 3 + (overrides.preservedFds ?? 0); fd += 1) inherited.set(fd, `preserved ${fd}`);
      const replay = replayFds(steps, inherited);
      const opened = mustFind(lines, 'open("/proc/self/fd", O_RDONLY|O_DIRECTORY|O_CLOEXEC|O_PATH, 0o0) ?report');
      expect(replay.opened.get(opened), name).toBe(dirFd);
      const fifo = dirFd + 1;
      const openat = mustFind(lines, /^openat\(/);
      expect(lines.slice(openat, mustFind(lines, /^execve\(/)), name).toEqual([
        `openat(${dirFd}, "${FIFO_FD}", O_RDONLY|O_CLOEXEC)`,
        `read(${fifo}, &buf"\\u0000\\u0000bin/sh\\u0000"+1, 1)`,
        `close(${fifo})`,
        `close(${FIFO_FD})`,
        `close(${dirFd})`,
      ]);
      // At the openat, that fd is still the host's /proc/self/fd, and names the inherited fifo.
      expect(replay.uses[openat], name).toEqual([
        { fd: dirFd, what: '/proc/self/fd' },
        { fd: FIFO_FD, what: 'exec fifo' },
      ]);
      // Nothing else uses it, and nothing reaches the fifo by a path.
      expect(replay.uses.flatMap((u, i) => (i !== openat && i !== openat + 4 && u.some((x) => x.what === '/proc/self/fd') ? [lines[i]] : [])), name).toEqual([]);
      expect(lines.filter((l) => l.includes(`/proc/self/fd/${FIFO_FD}`)), name).toEqual([]);
      expect(lines.slice(openat - 3, openat), name).toEqual(['checkpoint ready', 'prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0)', 'release-memory']);
    }
  });

  it('gives back its copy of Node once: right before the wait, or right before a seccomp filter installed earlier (it may forbid munmap)', () => {
    const filter = (notify: boolean) => ({ seccomp: { filter: new Uint8Array(8), flags: 0, unknownSyscalls: [], notify } });
    const withNnp = (spec: Spec) => ({ ...spec, process: { ...spec.process, cwd: '/', noNewPrivileges: true } });
    const cases: Array<[string, Spec, Partial<InitPlanInput>, RegExp]> = [
      ['no filter', fullSpec(), {}, /^openat\(\d+, "\d+", O_RDONLY\|O_CLOEXEC\)$/],
      ['filter without no_new_privs (before the credentials)', fullSpec(), filter(false), /^syscall\(SYS_seccomp/],
      ['listener under no_new_privs (after the credentials)', withNnp(fullSpec()), filter(true), /^syscall\(SYS_seccomp/],
      ['filter under no_new_privs (after the wait)', withNnp(fullSpec()), filter(false), /^openat\(\d+, "\d+", O_RDONLY\|O_CLOEXEC\)$/],
    ];
    for (const [name, spec, overrides, next] of cases) {
      const { lines } = plan(spec, overrides);
      expect(lines.filter((l) => l === 'release-memory'), name).toHaveLength(1);
      const release = mustFind(lines, 'release-memory');
      expect(lines[release + 1], name).toMatch(next);
      if (overrides.seccomp !== undefined) expect(release, name).toBeLessThan(mustFind(lines, /^syscall\(SYS_seccomp/));
    }
  });

  it('unblocks signals exactly once: after the signal resets, right before "ready" (every earlier step runs with all blocked); no sigprocmask step', () => {
    for (const [spec, overrides] of [
      [fullSpec(), { signalsToReset: [13, 15] }],
      [baseSpec({ linux: USERNS_LINUX }), { signalsToReset: [] }],
      [fullSpec(), { signalsToReset: [2], seccomp: { filter: new Uint8Array(8), flags: 0, unknownSyscalls: [] } }],
    ] as Array<[Spec, Partial<InitPlanInput>]>) {
      const { steps, lines } = plan(spec, overrides);
      expect(steps.filter((s) => s.kind === 'unblock-signals')).toEqual([{ kind: 'unblock-signals' }]);
      const unblock = mustFind(lines, 'unblock-signals');
      expect(lines[unblock + 1]).toBe('checkpoint ready');
      const resets = (overrides.signalsToReset ?? []).map((n) => `signal(${n}, 0)`);
      expect(lines.slice(unblock - resets.length, unblock)).toEqual(resets);
      expect(lines[unblock - resets.length - 1]).toMatch(/^fcntl\(2, F_SETFD, 0\)/);
      expect(lines.filter((l) => l.includes('rt_sigprocmask') || l.startsWith('sigprocmask') || l.startsWith('pthread_sigmask'))).toEqual([]);
    }
  });

  it('sets the parent-death signal again right after becoming root of a user namespace (the uid change clears it); not without one', () => {
    const { lines } = plan(fullSpec({}, USERNS_LINUX));
    const setresuid = mustFind(lines, 'syscall(SYS_setresuid, 0, 0, 0) ?report');
    expect(lines.slice(setresuid - 1, setresuid + 2)).toEqual([
      'syscall(SYS_setresgid, 0, 0, 0) ?report',
      'syscall(SYS_setresuid, 0, 0, 0) ?report',
      'prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0) ?report',
    ]);
    const pdeathsig = (l: readonly string[]) => l.flatMap((line, i) => (line === 'prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0) ?report' ? [i] : []));
    // At the start, after the user namespace setresuid, after process.user's setresuid.
    expect(pdeathsig(lines)).toEqual([0, setresuid + 1, mustFind(lines, 'syscall(SYS_setresuid, 1000, 1000, 1000) ?report') + 1]);
    const host = plan(fullSpec()).lines;
    expect(pdeathsig(host)).toEqual([0, mustFind(host, 'syscall(SYS_setresuid, 1000, 1000, 1000) ?report') + 1]);
  });

  it('joins a new session keyring named sessionKeyring (ENOSYS tolerated) after the user namespace setresuid, before the cgroup unshare', () => {
    const linux: Spec['linux'] = { ...USERNS_LINUX, namespaces: [...(USERNS_LINUX?.namespaces ?? []), { type: 'cgroup' }] };
    const { lines } = plan(baseSpec({ linux }), { sessionKeyring: '_ses.c1' });
    const spawned = mustFind(lines, 'checkpoint spawned');
    expect(lines.slice(spawned + 1, mustFind(lines, 'checkpoint isolated') + 1)).toEqual([
      'syscall(SYS_setresgid, 0, 0, 0) ?report',
      'syscall(SYS_setresuid, 0, 0, 0) ?report',
      'prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0) ?report',
      'syscall(SYS_keyctl, 1, "_ses.c1") ?report tolerate=ENOSYS',
      'unshare(CLONE_NEWCGROUP) ?report',
      'umask(0o0)',
      'mount(null, "/", null, MS_REC|MS_SLAVE, null) ?report',
      'checkpoint isolated',
    ]);
    expect(lines.filter((l) => l.includes('SYS_keyctl'))).toHaveLength(1);
  });

  it('joins the session keyring without a user namespace too, after any setns, before umask; none without sessionKeyring (--no-new-keyring)', () => {
    const spec = baseSpec({ linux: { namespaces: [{ type: 'mount' }, { type: 'network', path: '/n' }] } });
    const { lines } = plan(spec, { joinFds: new Map([['network', 23]]), sessionKeyring: '_ses.other-id' });
    const spawned = mustFind(lines, 'checkpoint spawned');
    expect(lines.slice(spawned + 1, spawned + 5)).toEqual([
      'setns(23, CLONE_NEWNET) ?report',
      'close(23) ?report',
      'syscall(SYS_keyctl, 1, "_ses.other-id") ?report tolerate=ENOSYS',
      'umask(0o0)',
    ]);
    expect(plan(fullSpec()).lines.filter((l) => l.includes('SYS_keyctl'))).toEqual([]);
    expect(plan(fullSpec({}, USERNS_LINUX)).lines.filter((l) => l.includes('SYS_keyctl'))).toEqual([]);
  });

  it('makes / a recursive slave before "isolated", after umask 0', () => {
    const { lines } = plan(fullSpec());
    const isolated = mustFind(lines, 'checkpoint isolated');
    expect(lines.slice(isolated - 2, isolated)).toEqual(['umask(0o0)', 'mount(null, "/", null, MS_REC|MS_SLAVE, null) ?report']);
    expect(lineIndex(lines, /^mount\(/)).toBe(isolated - 1);
  });

  it('in a new user namespace becomes its root (raw setresgid, then setresuid) after "spawned", before any mount', () => {
    const { lines } = plan(baseSpec({ linux: USERNS_LINUX }));
    const spawned = mustFind(lines, 'checkpoint spawned');
    const gid = mustFind(lines, 'syscall(SYS_setresgid, 0, 0, 0) ?report');
    expect(lines[gid + 1]).toBe('syscall(SYS_setresuid, 0, 0, 0) ?report');
    expect(gid).toBeGreaterThan(spawned);
    expect(gid).toBeLessThan(lineIndex(lines, /^mount\(/));
  });

  it('does not change ids before mounting without a new user namespace', () => {
    const { lines } = plan(fullSpec());
    const firstMount = lineIndex(lines, /^mount\(/);
    expect(lines.slice(0, firstMount).filter((l) => l.includes('SYS_setres'))).toEqual([]);
  });

  it('unshares the cgroup namespace after "spawned" (once the parent moved it into its cgroup)', () => {
    const { lines } = plan(baseSpec({ linux: { namespaces: [{ type: 'mount' }, { type: 'cgroup' }] } }));
    const unshare = mustFind(lines, 'unshare(CLONE_NEWCGROUP) ?report');
    expect(unshare).toBeGreaterThan(mustFind(lines, 'checkpoint spawned'));
    expect(unshare).toBeLessThan(mustFind(lines, 'checkpoint isolated'));
    expect(lines.filter((l) => l.startsWith('unshare('))).toEqual(['unshare(CLONE_NEWCGROUP) ?report']);
  });

  it('unshares the time namespace before "spawned" (the parent writes its offsets there)', () => {
    const { lines } = plan(baseSpec({ linux: { namespaces: [{ type: 'mount' }, { type: 'time' }] } }));
    const unshare = mustFind(lines, 'unshare(CLONE_NEWTIME) ?report');
    expect(unshare).toBeLessThan(mustFind(lines, 'checkpoint spawned'));
    expect(unshare).toBeGreaterThan(lineIndex(lines, /^close_range/));
  });

  it('brings lo up in a new network namespace, before "isolated"; not in one joined by path, nor without one', () => {
    const ifreq = (lines: string[]) => lines.filter((l) => l.startsWith('socket(') || l.startsWith('ioctl('));
    const { lines, steps } = plan(fullSpec());
    const up = ifreq(lines);
    expect(up).toHaveLength(2);
    expect(up[0]).toMatch(/^socket\(2, 524290, 0\) \?report$/);
    expect(lines.indexOf(up[1] as string)).toBeLessThan(lines.indexOf('checkpoint isolated'));
    const ioctl = steps.find((step) => step.kind === 'call' && step.fn === 'ioctl');
    expect(ioctl?.kind === 'call' && ioctl.args[1]).toBe(0x8914);
    const request = ioctl?.kind === 'call' ? (ioctl.args[2] as Uint8Array) : new Uint8Array();
    expect(new TextDecoder().decode(request.subarray(0, 3))).toBe('lo\0');
    expect(new DataView(request.buffer).getUint16(16, true)).toBe(0x9);
    const joined = baseSpec({ linux: { namespaces: [{ type: 'mount' }, { type: 'network', path: '/n' }] } });
    expect(ifreq(plan(joined, { joinFds: new Map([['network', 23]]) }).lines)).toEqual([]);
    expect(ifreq(plan(baseSpec({ linux: { namespaces: [{ type: 'mount' }] } })).lines)).toEqual([]);
  });

  it('joins namespaces given by path with setns after "spawned", closing each fd, and unshares none of them', () => {
    const spec = baseSpec({
      linux: { namespaces: [{ type: 'mount' }, { type: 'time', path: '/t' }, { type: 'cgroup', path: '/c' }, { type: 'network', path: '/n' }] },
    });
    const { lines } = plan(spec, { joinFds: new Map([['network', 23], ['cgroup', 24], ['time', 25]]) });
    const spawned = mustFind(lines, 'checkpoint spawned');
    expect(lines.slice(spawned + 1, spawned + 7)).toEqual([
      'setns(23, CLONE_NEWNET) ?report',
      'close(23) ?report',
      'setns(24, CLONE_NEWCGROUP) ?report',
      'close(24) ?report',
      'setns(25, CLONE_NEWTIME) ?report',
      'close(25) ?report',
    ]);
    expect(lines.filter((l) => l.startsWith('unshare('))).toEqual([]);
  });

  it('in a user namespace joined by path: setns user first, then unshare the new ones inside it, then become its root; devices are bound', () => {
    const spec = fullSpec({}, {
      namespaces: [{ type: 'user', path: '/u' }, { type: 'pid', path: '/p' }, { type: 'mount' }, { type: 'uts' }, { type: 'cgroup' }],
    });
    const { lines } = plan(spec, { namespaces: planNamespaces(spec), joinFds: new Map([['user', 23], ['pid', 24]]) });
    const spawned = mustFind(lines, 'checkpoint spawned');
    expect(lines.slice(spawned + 1, spawned + 11)).toEqual([
      'setns(23, CLONE_NEWUSER) ?report',
      'close(23) ?report',
      'setns(24, CLONE_NEWPID) ?report',
      'close(24) ?report',
      'unshare(CLONE_NEWNS|CLONE_NEWUTS) ?report',
      'syscall(SYS_setresgid, 0, 0, 0) ?report',
      'syscall(SYS_setresuid, 0, 0, 0) ?report',
      'prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0) ?report',
      'unshare(CLONE_NEWCGROUP) ?report',
      'umask(0o0)',
    ]);
    // mknod is refused in any user namespace but the host's: the nodes are bind mounts.
    expect(lines.filter((l) => l.startsWith('mknodat'))).toEqual([]);
    expect(lines).toContain('mount("/dev/null", "/proc/self/fd/5", null, MS_BIND, null) ?report');
  });

  it('without a mount namespace of its own: no propagation change on the host\'s "/", and only a chroot (even with --no-pivot)', () => {
    const spec = fullSpec({}, { namespaces: [{ type: 'pid' }, { type: 'uts' }], maskedPaths: [], readonlyPaths: [] });
    for (const noPivot of [false, true]) {
      const { steps, lines } = plan(spec, { noPivot });
      expect(checkpoints(steps)).toEqual(['spawned', 'isolated', 'mounted', 'ready']);
      // Nothing between the checkpoints but the umask: "/" is the host's.
      expect(lines.slice(mustFind(lines, 'checkpoint spawned') + 1, mustFind(lines, 'checkpoint isolated'))).toEqual(['umask(0o0)']);
      expect(lines.filter((l) => l.includes('MS_SLAVE') || l.includes('MS_MOVE') || l.includes('SYS_pivot_root') || l.startsWith('umount2('))).toEqual([]);
      const mounted = mustFind(lines, 'checkpoint mounted');
      expect(lines.slice(mounted + 1, mounted + 5)).toEqual(['fchdir(4) ?report', 'chroot(".") ?report', 'chdir("/") ?report', 'close(4) ?report']);
      // The host's /proc/self/fd is opened (and used for the fifo) all the same.
      expect(lines[mustFind(lines, 'checkpoint isolated') + 1]).toBe('open("/proc/self/fd", O_RDONLY|O_DIRECTORY|O_CLOEXEC|O_PATH, 0o0) ?report');
      expect(lines).toContain('openat(3, "17", O_RDONLY|O_CLOEXEC)');
      const replay = replayFds(steps, parentFds());
      expect(replay.problems).toEqual([]);
      expect(replay.leaked).toEqual(new Map());
    }
  });

  it('refuses masked and read-only paths without a mount namespace of its own, as runc does', () => {
    const message =
      'linux.maskedPaths/readonlyPaths: masking paths needs a private mount namespace (add {"type": "mount"} to linux.namespaces), as in runc';
    expect(() => plan(baseSpec({ linux: { namespaces: [{ type: 'pid' }], maskedPaths: ['/proc/kcore'] } }))).toThrow(message);
    expect(() => plan(baseSpec({ linux: { namespaces: [{ type: 'pid' }], readonlyPaths: ['/proc/sys'] } }))).toThrow(message);
    // With a mount namespace they are fine.
    expect(() => plan(baseSpec({ linux: { namespaces: [{ type: 'mount' }], maskedPaths: ['/proc/kcore'], readonlyPaths: ['/proc/sys'] } }))).not.toThrow();
  });

  it('refuses a config without process', () => {
    const { process: _unused, ...spec } = baseSpec();
    expect(() => plan(spec)).toThrow('config.json: /process is missing; create needs one, since start must run it (docs/process.md)');
  });

  it('pivots after "mounted", then sets hostname and sysctls before the read-only paths, then credentials, then ready', () => {
    const { lines } = plan(fullSpec());
    const order = [
      mustFind(lines, 'checkpoint mounted'),
      mustFind(lines, 'syscall(SYS_pivot_root, ".", ".") ?report'),
      mustFind(lines, 'sethostname("box", 3) ?report'),
      mustFind(lines, 'open("/proc/sys/net/ipv4/ip_forward", O_WRONLY|O_TRUNC|O_CLOEXEC, 0o0) ?report'),
      mustFind(lines, 'write(4, "1", 1) ?report'),
      mustFind(lines, 'mount("/proc/sys", "/proc/sys", null, MS_BIND|MS_REC, null) ?report tolerate=ENOENT'),
      mustFind(lines, 'prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) ?report'),
      mustFind(lines, 'syscall(SYS_setresuid, 1000, 1000, 1000) ?report'),
      mustFind(lines, 'checkpoint ready'),
      mustFind(lines, 'execve(&buf"\\u0000\\u0000bin/sh\\u0000"+1, ["/bin/sh", "-c", "true"], ["PATH=/bin"])'),
    ];
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // masked paths are mounted by plain path, after the pivot only.
    expect(mustFind(lines, /^mount\("\/dev\/null", "\/proc\/kcore"/)).toBeGreaterThan(order[1] as number);
  });

  it('uses MS_MOVE and chroot with noPivot', () => {
    const { lines } = plan(fullSpec(), { noPivot: true });
    expect(lines).toContain('mount(".", "/", null, MS_MOVE, null) ?report');
    expect(lines).toContain('chroot(".") ?report');
    expect(lines.some((l) => l.includes('SYS_pivot_root'))).toBe(false);
  });

  it('sets groups in a user namespace only when tsrun is privileged (setgroups is denied otherwise)', () => {
    const spec = baseSpec({ linux: USERNS_LINUX });
    const setgroups = (privileged: boolean, s = spec) => plan(s, { privileged }).lines.filter((l) => l.includes('SYS_setgroups'));
    expect(setgroups(true)).toEqual(['syscall(SYS_setgroups, 0, u32[0]) ?report']);
    expect(setgroups(false)).toEqual([]);
    expect(plan(spec, { privileged: false }).credentials.groups).toBeUndefined();
    // Without a user namespace, setgroups works for anyone who can create the container.
    expect(setgroups(false, fullSpec())).toEqual(['syscall(SYS_setgroups, 0, u32[0]) ?report']);
  });

  it('execs the resolved executable with process.args and process.env, and returns the expected credentials', () => {
    const spec = fullSpec();
    const { lines, credentials } = plan(spec, { executable: { path: '/usr/bin/env' } });
    expect(lines).toContain('execve(&buf"\\u0000\\u0000usr/bin/env\\u0000"+1, ["/bin/sh", "-c", "true"], ["PATH=/bin"])');
    expect(credentials).toMatchObject({ uid: 1000, gid: 1000, groups: [], noNewPrivileges: false });
  });

  it('owns created device nodes without uid/gid by root, not by the process user (uid 1000), as runc does', () => {
    const spec = fullSpec({}, { devices: [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }] });
    expect(plan(spec).lines).toContain('fchownat(5, "fuse", 0, 0, AT_SYMLINK_NOFOLLOW) ?report');
  });
});

describe('planInit with process.terminal', () => {
  it("opens the pty in the container's devpts before \"mounted\", binds it on /dev/console, and makes it the stdio of a new session before the credentials", () => {
    const spec = fullSpec();
    const { steps, pty } = planInit(initInput({ ...spec, process: { cwd: '/', ...spec.process, terminal: true } }));
    const lines = render(steps);
    expect(pty).toBeDefined();
    const master = pty?.master ?? -1;
    const slave = pty?.slave ?? -1;
    const open = mustFind(lines, /^syscall\(SYS_openat2, \d+, "dev\/ptmx",/);
    const console = mustFind(lines, /^mount\("\/proc\/self\/fd\/\d+", "\/proc\/self\/fd\/\d+", null, MS_BIND, null\) \?report$/, open);
    expect(lines[console]).toContain(`"/proc/self/fd/${slave}"`);
    const mounted = mustFind(lines, 'checkpoint mounted');
    expect(open < console && console < mounted).toBe(true);
    expect(lines[mounted + 1]).toBe(`close(${master}) ?report`);
    const setsid = mustFind(lines, 'setsid() ?report', mounted);
    expect(lines.slice(setsid - 4, setsid + 2)).toEqual([
      `dup2(${slave}, 0) ?report`,
      `dup2(${slave}, 1) ?report`,
      `dup2(${slave}, 2) ?report`,
      `close(${slave}) ?report`,
      'setsid() ?report',
      'ioctl(0, 21518, 0) ?report',
    ]);
    expect(setsid).toBeLessThan(mustFind(lines, /^syscall\(SYS_setresuid, 1000/));
  });

  it('leaves /dev/console alone when /dev is the host\'s (a bind mount)', () => {
    const spec = baseSpec({
      mounts: [{ destination: '/dev', type: 'bind', source: '/dev', options: ['rbind'] }],
      process: { cwd: '/', args: ['/bin/sh'], env: [], terminal: true },
    });
    const lines = render(planInit(initInput(spec)).steps);
    mustFind(lines, /^syscall\(SYS_openat2, \d+, "dev\/ptmx",/);
    expect(lines.filter((l) => l.includes('console'))).toEqual([]);
  });
});

describe('planInit with linux.personality', () => {
  it('sets the persona once, after pivot_root and before the seccomp filter and the credentials, so execve inherits it', () => {
    // Without no_new_privs: the filter is installed before the credentials.
    const spec = fullSpec({}, { personality: { domain: 'LINUX32' } });
    const lines = render(planInit(initInput(spec, { seccomp: { filter: new Uint8Array(8), flags: 0, unknownSyscalls: [], notify: false } })).steps);
    const persona = mustFind(lines, 'personality(8) ?report');
    expect(lines.filter((l) => l.startsWith('personality('))).toHaveLength(1);
    expect(persona).toBeGreaterThan(mustFind(lines, /^syscall\(SYS_pivot_root/));
    expect(persona).toBeLessThan(mustFind(lines, /^syscall\(SYS_seccomp/));
    expect(persona).toBeLessThan(mustFind(lines, 'syscall(SYS_setresuid, 1000, 1000, 1000) ?report'));
    expect(persona).toBeLessThan(mustFind(lines, 'checkpoint ready'));
  });

  it('makes no personality call without the field', () => {
    expect(render(planInit(initInput(fullSpec())).steps).filter((l) => l.startsWith('personality('))).toEqual([]);
  });
});

describe('planInit: dumpable', () => {
  it('is not dumpable from the first step, except under an unprivileged caller with a new user namespace, until its maps are written', () => {
    const dumpableStep = 'prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) ?report';
    const root = plan(baseSpec({ linux: USERNS_LINUX })).lines;
    expect(root.indexOf(dumpableStep)).toBe(1);
    const rootless = plan(baseSpec({ linux: USERNS_LINUX }), { privileged: false }).lines;
    expect(rootless.indexOf(dumpableStep)).toBe(rootless.indexOf('checkpoint spawned') + 1);
    const rootlessNoUserns = plan(fullSpec(), { privileged: false }).lines;
    expect(rootlessNoUserns.indexOf(dumpableStep)).toBe(1);
  });

  it('under an unprivileged caller with a new user namespace and a tmpcopyup mount, stays dumpable until its last copy-up', () => {
    const dumpableStep = 'prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) ?report';
    const mounts = [
      { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] },
    ];
    const lines = plan(baseSpec({ linux: USERNS_LINUX, mounts }), { privileged: false }).lines;
    expect(lines.filter((l) => l === dumpableStep)).toHaveLength(1);
    expect(lines.indexOf(dumpableStep)).toBeGreaterThan(lines.lastIndexOf('checkpoint copy-up'));
    expect(lines.indexOf(dumpableStep)).toBeLessThan(lines.indexOf('checkpoint mounted'));
    // A privileged caller's process is not dumpable from its first steps, copy-up or not.
    expect(plan(baseSpec({ linux: USERNS_LINUX, mounts })).lines.indexOf(dumpableStep)).toBe(1);
  });
});
