import { describe, expect, it } from 'vitest';
import { PR } from '../../../../ffi/constants.js';
import type { Process } from '../../../../src/config/types.js';
import { ChainWriter } from '../../../../src/linux/chain-writer.js';
import { FdTable } from '../../../../src/linux/fd-table.js';
import { CAPABILITIES } from '../../../../src/config/linux-names.js';
import { capabilityMask } from '../../../../src/linux/process/capabilities.js';
import { ignoredAmbient, planCredentials } from '../../../../src/linux/process/plan-credentials.js';
import { callSteps, render, u32Words } from '../steps.js';

function plan(proc: Partial<Process>, options: { lastCap?: number; setgroupsAllowed?: boolean } = {}) {
  const w = new ChainWriter(new FdTable([0, 1, 2]));
  const expected = planCredentials({ cwd: '/', ...proc }, options.lastCap ?? 40, options.setgroupsAllowed ?? true, w);
  return { expected, steps: w.steps, lines: render(w.steps) };
}

const drops = (lines: readonly string[]) =>
  lines.filter((l) => l.startsWith('prctl(PR_CAPBSET_DROP')).map((l) => Number(/PR_CAPBSET_DROP, (\d+),/.exec(l)?.[1]));

describe('capability numbers', () => {
  it('follow include/uapi/linux/capability.h', () => {
    expect(CAPABILITIES.indexOf('CAP_CHOWN')).toBe(0);
    expect(CAPABILITIES.indexOf('CAP_NET_BIND_SERVICE')).toBe(10);
    expect(CAPABILITIES.indexOf('CAP_SYS_ADMIN')).toBe(21);
    expect(CAPABILITIES.indexOf('CAP_SETFCAP')).toBe(31);
    expect(CAPABILITIES.indexOf('CAP_MAC_OVERRIDE')).toBe(32);
    expect(CAPABILITIES.indexOf('CAP_AUDIT_READ')).toBe(37);
    expect(CAPABILITIES.indexOf('CAP_PERFMON')).toBe(38);
    expect(CAPABILITIES.indexOf('CAP_BPF')).toBe(39);
    expect(CAPABILITIES.indexOf('CAP_CHECKPOINT_RESTORE')).toBe(40);
    expect(CAPABILITIES).toHaveLength(41);
  });

  it('capabilityMask skips capabilities above lastCap (as runc does) and refuses unknown names', () => {
    expect(capabilityMask(['CAP_CHOWN', 'CAP_BPF'], 'f', 40)).toBe((1n << 39n) | 1n);
    expect(capabilityMask(['CAP_CHOWN', 'CAP_BPF'], 'f', 38)).toBe(1n);
    expect(capabilityMask(undefined, 'f', 40)).toBe(0n);
    expect(() => capabilityMask(['CAP_CHOWN', 'CAP_FLY'], 'process.capabilities.bounding', 40)).toThrow(
      'process.capabilities.bounding: unknown capability CAP_FLY',
    );
  });
});

describe('planCredentials', () => {
  it('drops from the bounding set exactly the capabilities not listed, up to lastCap', () => {
    const bounding = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_BPF'];
    const { lines } = plan({ capabilities: { bounding } });
    const kept = new Set([0, 5, 10, 39]);
    expect(drops(lines)).toEqual(Array.from({ length: 41 }, (_, i) => i).filter((cap) => !kept.has(cap)));

    // An older kernel (lastCap 38) knows neither CAP_BPF nor CAP_CHECKPOINT_RESTORE: nothing to drop there.
    const old = plan({ capabilities: { bounding } }, { lastCap: 38 });
    expect(drops(old.lines)).toEqual(Array.from({ length: 39 }, (_, i) => i).filter((cap) => !kept.has(cap)));
  });

  it('refuses an effective capability that is not permitted, naming it, as capset would with a bare EPERM (fuzzer seed 0x0b3a5dca, case 905: a mangled "permitted" key)', () => {
    expect(() => plan({ capabilities: { effective: ['CAP_KILL', 'CAP_CHOWN', 'CAP_BPF'], permitted: ['CAP_KILL'] } })).toThrow(
      'process.capabilities.effective: CAP_CHOWN, CAP_BPF not in process.capabilities.permitted',
    );
    // A capability this kernel does not know is skipped in both sets, so it is no conflict.
    expect(() => plan({ capabilities: { effective: ['CAP_KILL', 'CAP_BPF'], permitted: ['CAP_KILL'] } }, { lastCap: 38 })).not.toThrow();
    expect(() => plan({ capabilities: { effective: ['CAP_KILL'], permitted: ['CAP_KILL', 'CAP_CHOWN'] } })).not.toThrow();
  });

  it('drops the whole bounding set when none is given, and nothing when all are', () => {
    expect(drops(plan({}).lines)).toHaveLength(41);
    expect(drops(plan({ capabilities: { bounding: [...CAPABILITIES] } }).lines)).toEqual([]);
  });

  it('writes capset data as two {effective, permitted, inheritable} words, bits 32+ in the second', () => {
    const { steps } = plan({
      capabilities: {
        effective: ['CAP_CHOWN', 'CAP_NET_RAW', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE'],
        permitted: ['CAP_CHOWN', 'CAP_NET_RAW', 'CAP_SYS_ADMIN', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE'],
        inheritable: ['CAP_PERFMON'],
      },
    });
    const [capset, ...more] = callSteps(steps, 'SYS_capset');
    expect(more).toEqual([]);
    expect(u32Words(capset?.args[1] as Uint8Array)).toEqual([0x20080522, 0]);
    expect(u32Words(capset?.args[2] as Uint8Array)).toEqual([
      (1 << 0) | (1 << 13), // effective 0-31
      (1 << 0) | (1 << 13) | (1 << 21), // permitted 0-31
      0, // inheritable 0-31
      (1 << (39 - 32)) | (1 << (40 - 32)), // effective 32-63
      (1 << (39 - 32)) | (1 << (40 - 32)), // permitted 32-63
      1 << (38 - 32), // inheritable 32-63
    ]);
  });

  it('raises each ambient capability after capset', () => {
    const { lines } = plan({
      capabilities: { ambient: ['CAP_BPF', 'CAP_NET_BIND_SERVICE'], permitted: ['CAP_NET_BIND_SERVICE', 'CAP_BPF'], inheritable: ['CAP_NET_BIND_SERVICE', 'CAP_BPF'] },
    });
    const raises = lines.filter((l) => l.includes('PR_CAP_AMBIENT'));
    expect(raises).toEqual([
      'prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, 10, 0, 0) ?report',
      'prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, 39, 0, 0) ?report',
    ]);
    expect(lines.indexOf(raises[0] as string)).toBeGreaterThan(lines.findIndex((l) => l.startsWith('syscall(SYS_capset')));
  });

  it('does not raise an ambient capability this kernel does not know', () => {
    const { lines } = plan({ capabilities: { ambient: ['CAP_CHECKPOINT_RESTORE'] } }, { lastCap: 39 });
    expect(lines.filter((l) => l.includes('PR_CAP_AMBIENT'))).toEqual([]);
  });

  it('runs the identity steps in order, with raw syscalls', () => {
    const { lines } = plan({
      cwd: '/work',
      user: { uid: 1000, gid: 100, additionalGids: [10, 20], umask: 0o077 },
      noNewPrivileges: true,
      capabilities: { bounding: [...CAPABILITIES] },
    });
    expect(lines).toEqual([
      'prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) ?report',
      'syscall(SYS_setgroups, 2, u32[10, 20]) ?report',
      'syscall(SYS_setresgid, 100, 100, 100) ?report',
      'syscall(SYS_setresuid, 1000, 1000, 1000) ?report',
      'prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0) ?report',
      'prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) ?report',
      'syscall(SYS_capset, u32[0x20080522, 0x0], u32[0x0, 0x0, 0x0, 0x0, 0x0, 0x0]) ?report',
      'umask(0o77)',
      'chdir("/work") ?report',
      'prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ?report',
    ]);
  });

  it('sets the parent-death signal (SIGKILL) again right after setresuid, which clears it, checked, for any user (root too)', () => {
    for (const user of [{ uid: 1000, gid: 100 }, { uid: 0, gid: 0 }, undefined]) {
      const { steps, lines } = plan(user === undefined ? {} : { user });
      const uid = user?.uid ?? 0;
      const setresuid = lines.indexOf(`syscall(SYS_setresuid, ${uid}, ${uid}, ${uid}) ?report`);
      expect(setresuid, JSON.stringify(user)).toBeGreaterThan(0);
      expect(lines[setresuid + 1]).toBe('prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0) ?report');
      const pdeathsig = callSteps(steps, 'prctl').filter((s) => s.args[0] === PR.SET_PDEATHSIG);
      expect(pdeathsig).toEqual([{ kind: 'call', fn: 'prctl', args: [PR.SET_PDEATHSIG, 9, 0, 0, 0], report: expect.stringMatching(/again/) }]);
    }
  });

  it('never uses glibc set*id wrappers, which would wait for threads the child does not have', () => {
    const { steps } = plan({ user: { uid: 1, gid: 2, additionalGids: [3] }, capabilities: { ambient: ['CAP_KILL'] } });
    const wrappers = ['setuid', 'setgid', 'seteuid', 'setegid', 'setreuid', 'setregid', 'setresuid', 'setresgid', 'setgroups', 'initgroups', 'capset', 'setfsuid', 'setfsgid'];
    expect(callSteps(steps).filter((s) => wrappers.includes(s.fn))).toEqual([]);
    expect(callSteps(steps, 'SYS_setresuid')).toHaveLength(1);
    expect(callSteps(steps, 'SYS_setresgid')).toHaveLength(1);
    expect(callSteps(steps, 'SYS_setgroups')).toHaveLength(1);
  });

  it('skips setgroups where the kernel denies it (a user namespace made by an unprivileged caller)', () => {
    const denied = plan({}, { setgroupsAllowed: false });
    expect(denied.lines.filter((l) => l.includes('SYS_setgroups'))).toEqual([]);
    // ...and then does not claim to know what Groups will show.
    expect(denied.expected.groups).toBeUndefined();
    const allowed = plan({}, { setgroupsAllowed: true });
    expect(allowed.lines.filter((l) => l.includes('SYS_setgroups'))).toEqual(['syscall(SYS_setgroups, 0, u32[0]) ?report']);
    expect(allowed.expected.groups).toEqual([]);
  });

  it('refuses additional gids where setgroups is denied instead of silently dropping them', () => {
    expect(() => plan({ user: { uid: 0, gid: 0, additionalGids: [5] } }, { setgroupsAllowed: false })).toThrow(
      /^process\.user\.additionalGids: .*setgroups denied/,
    );
    expect(() => plan({ user: { uid: 0, gid: 0, additionalGids: [] } }, { setgroupsAllowed: false })).not.toThrow();
  });

  it('defaults to root, umask 022, and no no_new_privs', () => {
    const { lines, expected } = plan({});
    expect(lines).toContain('syscall(SYS_setresgid, 0, 0, 0) ?report');
    expect(lines).toContain('syscall(SYS_setresuid, 0, 0, 0) ?report');
    expect(lines).toContain('umask(0o22)');
    expect(lines.some((l) => l.includes('PR_SET_NO_NEW_PRIVS'))).toBe(false);
    expect(expected).toMatchObject({ uid: 0, gid: 0, groups: [], noNewPrivileges: false });
  });

  it('returns what /proc/<pid>/status must show, masked to the capabilities this kernel has', () => {
    const { expected } = plan(
      {
        user: { uid: 1000, gid: 1001, additionalGids: [4, 24] },
        noNewPrivileges: true,
        capabilities: {
          bounding: ['CAP_CHOWN', 'CAP_AUDIT_WRITE', 'CAP_BPF'],
          effective: ['CAP_CHOWN', 'CAP_PERFMON'],
          permitted: ['CAP_CHOWN', 'CAP_PERFMON', 'CAP_CHECKPOINT_RESTORE'],
          inheritable: ['CAP_KILL'],
          ambient: ['CAP_KILL'],
        },
      },
      { lastCap: 38 },
    );
    expect(expected).toEqual({
      uid: 1000,
      gid: 1001,
      groups: [4, 24],
      bounding: (1n << 0n) | (1n << 29n),
      effective: (1n << 0n) | (1n << 38n),
      permitted: (1n << 0n) | (1n << 38n),
      inheritable: 1n << 5n,
      // CAP_KILL is not permitted: the kernel could not raise it, so it is not expected (nor raised).
      ambient: 0n,
      noNewPrivileges: true,
    });
  });

  it('raises only the ambient capabilities that are also permitted and inheritable, and names the others', () => {
    const proc = {
      capabilities: {
        permitted: ['CAP_KILL', 'CAP_CHOWN'],
        inheritable: ['CAP_KILL'],
        ambient: ['CAP_KILL', 'CAP_CHOWN', 'CAP_NET_RAW'],
      },
    };
    const { expected, lines } = plan(proc);
    expect(expected.ambient).toBe(1n << 5n);
    expect(lines.filter((l) => l.includes('PR_CAP_AMBIENT'))).toHaveLength(1);
    expect(ignoredAmbient(proc as Process)).toEqual(['CAP_CHOWN', 'CAP_NET_RAW']);
  });

  it('refuses an unknown capability, naming the set', () => {
    expect(() => plan({ capabilities: { ambient: ['CAP_NET_BIND_SERVICE', 'NET_RAW'] } })).toThrow('process.capabilities.ambient: unknown capability NET_RAW');
  });

  it('uses the PR_ numbers of linux/prctl.h', () => {
    expect(PR).toMatchObject({ SET_PDEATHSIG: 1, SET_KEEPCAPS: 8, CAPBSET_DROP: 24, SET_NO_NEW_PRIVS: 38, CAP_AMBIENT: 47, CAP_AMBIENT_RAISE: 2 });
  });
});
