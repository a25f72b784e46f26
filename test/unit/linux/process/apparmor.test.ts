import { describe, expect, it } from 'vitest';
import { planInit } from '../../../../src/linux/init-plan.js';
import { planJoin } from '../../../../src/linux/join-plan.js';
import { resolveAppArmor, type AppArmorExec } from '../../../../src/linux/process/apparmor.js';
import { RecordingKernel } from '../../fakes/recording-kernel.js';
import { baseSpec, CHANNEL, initInput, joinInput } from '../fixtures.js';
import { mustFind, render, replayFds } from '../steps.js';

const ENABLED = '/sys/module/apparmor/parameters/enabled';
const PROFILES = '/sys/kernel/security/apparmor/profiles';
const CURRENT = '/proc/thread-self/attr/apparmor/current';

/** A host running AppArmor with these profiles loaded. */
function appArmorHost(profiles = 'tsrun-test (enforce)\nwith space (complain)\n'): RecordingKernel {
  return new RecordingKernel({ [ENABLED]: 'Y\n', [PROFILES]: profiles, [CURRENT]: 'unconfined\n' });
}

const field = 'process.apparmorProfile';

describe('resolveAppArmor', () => {
  it('asks for nothing without a profile, or with "" (as runc), and reads nothing', () => {
    const kernel = new RecordingKernel();
    expect(resolveAppArmor(kernel, undefined, field)).toBeUndefined();
    expect(resolveAppArmor(kernel, '', field)).toBeUndefined();
    expect(kernel.calls).toEqual([]);
  });

  it('resolves a loaded profile to AppArmor\'s own exec attr file', () => {
    expect(resolveAppArmor(appArmorHost(), 'tsrun-test', field)).toEqual({ profile: 'tsrun-test', attrFile: '/proc/thread-self/attr/apparmor/exec' });
    // A name may hold spaces; the mode in parentheses is not part of it.
    expect(resolveAppArmor(appArmorHost(), 'with space', field)?.profile).toBe('with space');
  });

  it('uses the shared attr/exec on a kernel without attr/apparmor (before Linux 5.8)', () => {
    const kernel = appArmorHost();
    kernel.files.delete(CURRENT);
    expect(resolveAppArmor(kernel, 'tsrun-test', field)?.attrFile).toBe('/proc/thread-self/attr/exec');
    // Only absence means an old kernel: a denied read still has AppArmor's own file.
    const denied = appArmorHost().failOn('readFile', 'EACCES', { when: (c) => c.path === CURRENT });
    expect(resolveAppArmor(denied, 'tsrun-test', field)?.attrFile).toBe('/proc/thread-self/attr/apparmor/exec');
  });

  it('refuses a profile that is not loaded, saying how to load one', () => {
    expect(() => resolveAppArmor(appArmorHost(), 'tsrun-missing', field)).toThrow(
      'process.apparmorProfile: the AppArmor profile tsrun-missing is not loaded (not in /sys/kernel/security/apparmor/profiles); load it first (apparmor_parser -r <file>) or name a loaded one',
    );
  });

  it('accepts "unconfined", namespaced names and stacks, which the list does not show as such', () => {
    expect(resolveAppArmor(appArmorHost(), 'unconfined', field)?.profile).toBe('unconfined');
    expect(resolveAppArmor(appArmorHost(), ':other-ns:profile', field)?.profile).toBe(':other-ns:profile');
    expect(resolveAppArmor(appArmorHost(), 'tsrun-test//&other', field)?.profile).toBe('tsrun-test//&other');
  });

  it('leaves the check to the chain when this caller may not list profiles (not a policy viewer)', () => {
    const kernel = appArmorHost().failOn('readFile', 'EACCES', { when: (c) => c.path === PROFILES });
    expect(resolveAppArmor(kernel, 'anything', field)?.profile).toBe('anything');
  });

  it('refuses any profile when the kernel does not run AppArmor, or securityfs is not mounted', () => {
    const message = /^process\.apparmorProfile: AppArmor is not enabled on this host .*so the profile tsrun-test cannot be applied; remove the field or run on a host with AppArmor$/;
    expect(() => resolveAppArmor(new RecordingKernel(), 'tsrun-test', field)).toThrow(message);
    expect(() => resolveAppArmor(new RecordingKernel({ [ENABLED]: 'N\n', [PROFILES]: '' }), 'tsrun-test', field)).toThrow(message);
    const noSecurityfs = appArmorHost();
    noSecurityfs.files.delete(PROFILES);
    expect(() => resolveAppArmor(noSecurityfs, 'tsrun-test', field)).toThrow(message);
  });
});

const apparmor: AppArmorExec = { profile: 'tsrun-test', attrFile: '/proc/thread-self/attr/apparmor/exec' };
/** The request, as the chain writes it: open (the next free fd, 3), write, close. */
const REQUEST = [
  'open("/proc/thread-self/attr/apparmor/exec", O_WRONLY|O_TRUNC|O_CLOEXEC, 0o0) ?report',
  'write(3, "exec tsrun-test", 15) ?report',
  'close(3) ?report',
];

describe('the AppArmor request in the chains', () => {
  it("the init asks through the host's procfs, before it mounts or pivots anything", () => {
    const lines = render(planInit(initInput(baseSpec(), { appArmor: apparmor })).steps);
    const open = mustFind(lines, REQUEST[0] as string);
    expect(lines.slice(open, open + 3)).toEqual(REQUEST);
    expect(open).toBeGreaterThan(mustFind(lines, /^close_range\(/));
    expect(open).toBeLessThan(mustFind(lines, 'checkpoint spawned'));
    // Namespaces are created by clone(2) here; the first step inside them is the slave remount.
    expect(open).toBeLessThan(mustFind(lines, /^mount\(/));
  });

  it('an exec process asks before it joins the namespaces, so a forked child (rootless pid namespace) inherits the request', () => {
    const namespaceFds = [
      { type: 'user' as const, fd: 23 },
      { type: 'pid' as const, fd: 24 },
      { type: 'mount' as const, fd: 25 },
    ];
    const input = joinInput({ namespaceFds, appArmor: apparmor });
    const { steps } = planJoin(input);
    const lines = render(steps);
    const open = mustFind(lines, REQUEST[0] as string);
    expect(lines.slice(open, open + 3)).toEqual(REQUEST);
    expect(open).toBeLessThan(mustFind(lines, 'setns(23, CLONE_NEWUSER) ?report'));
    expect(open).toBeLessThan(lines.findIndex((l) => l.startsWith('fork')));
    // The attr file's fd is closed again: nothing of it reaches the container's program.
    const fds = new Map<number, string>([[0, 'stdin'], [1, 'stdout'], [2, 'stderr'], [26, 'root'], [CHANNEL.syncRead, 'sync'], [CHANNEL.reportWrite, 'report']]);
    for (const { type, fd } of namespaceFds) fds.set(fd, type);
    expect(replayFds(steps, fds).problems).toEqual([]);
  });

  it('asks for nothing without a profile', () => {
    expect(render(planInit(initInput(baseSpec())).steps).filter((l) => l.includes('attr'))).toEqual([]);
  });
});
