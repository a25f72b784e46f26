import { LINUX_CAPABILITY_VERSION_3, PR } from '../../../ffi/constants.js';
import type { Process } from '../../config/types.js';
import type { ChainWriter } from '../chain-writer.js';
import { capabilityMask, capabilityNames } from './capabilities.js';

/** What /proc/<pid>/status must show once the credential steps have run. */
export interface ExpectedCredentials {
  readonly uid: number;
  readonly gid: number;
  /** Undefined when the groups cannot be set (a user namespace made by an unprivileged caller). */
  readonly groups: readonly number[] | undefined;
  readonly effective: bigint;
  readonly permitted: bigint;
  readonly inheritable: bigint;
  readonly bounding: bigint;
  readonly ambient: bigint;
  readonly noNewPrivileges: boolean;
  /** A seccomp filter is installed before the last checkpoint (without no_new_privs). */
  readonly seccompBeforeReady?: boolean;
}

/**
 * The process's own identity, which only it can set: bounding set, groups,
 * gid and uid (keeping capabilities across the uid change), then the
 * capability sets, ambient set, umask and no_new_privs. Raw syscalls stand
 * in for glibc's set*id wrappers, which would wait for threads that the
 * cloned child does not have.
 */
export function planCredentials(proc: Process, lastCap: number, setgroupsAllowed: boolean, w: ChainWriter): ExpectedCredentials {
  const caps = proc.capabilities ?? {};
  const user = proc.user ?? { uid: 0, gid: 0 };
  const expected: ExpectedCredentials = {
    uid: user.uid ?? 0,
    gid: user.gid ?? 0,
    groups: setgroupsAllowed ? (user.additionalGids ?? []) : undefined,
    effective: capabilityMask(caps.effective, 'process.capabilities.effective', lastCap),
    permitted: capabilityMask(caps.permitted, 'process.capabilities.permitted', lastCap),
    inheritable: capabilityMask(caps.inheritable, 'process.capabilities.inheritable', lastCap),
    bounding: capabilityMask(caps.bounding, 'process.capabilities.bounding', lastCap),
    // The kernel raises an ambient capability only if it is also permitted
    // and inheritable; runc drops the others silently, we drop them with a
    // warning (see ignoredAmbient).
    ambient:
      capabilityMask(caps.ambient, 'process.capabilities.ambient', lastCap) &
      capabilityMask(caps.permitted, 'process.capabilities.permitted', lastCap) &
      capabilityMask(caps.inheritable, 'process.capabilities.inheritable', lastCap),
    noNewPrivileges: proc.noNewPrivileges === true,
  };
  // capset refuses an effective set that is not a subset of the permitted one
  // with a bare EPERM; said here, before clone, it names the capabilities.
  const notPermitted = expected.effective & ~expected.permitted;
  if (notPermitted !== 0n) {
    throw new Error(
      `process.capabilities.effective: ${capabilityNames(notPermitted).join(', ')} not in process.capabilities.permitted, and the kernel makes no capability effective that is not permitted; add them to permitted or remove them from effective`,
    );
  }

  w.check('prctl(PR_SET_KEEPCAPS, 1)', 'prctl', [PR.SET_KEEPCAPS, 1, 0, 0, 0]);
  for (let cap = 0; cap <= lastCap; cap += 1) {
    if ((expected.bounding & (1n << BigInt(cap))) === 0n) {
      w.check(`drop capability ${cap} from the bounding set`, 'prctl', [PR.CAPBSET_DROP, cap, 0, 0, 0]);
    }
  }
  if (expected.groups !== undefined) {
    const gids = Buffer.alloc(4 * Math.max(expected.groups.length, 1));
    expected.groups.forEach((g, i) => gids.writeUInt32LE(g, 4 * i));
    w.sys(`setgroups [${expected.groups.join(',')}] (process.user.additionalGids)`, 'setgroups', [expected.groups.length, gids]);
  } else if ((user.additionalGids ?? []).length > 0) {
    throw new Error(
      'process.user.additionalGids: an unprivileged caller\'s user namespace has setgroups denied, so supplementary groups cannot be set; remove them or run tsrun as root',
    );
  }
  w.sys(`setresgid ${expected.gid} (process.user.gid)`, 'setresgid', [expected.gid, expected.gid, expected.gid]);
  w.sys(`setresuid ${expected.uid} (process.user.uid)`, 'setresuid', [expected.uid, expected.uid, expected.uid]);
  // The uid change cleared the parent-death signal; until "ready" the process must still die with tsrun.
  w.check('prctl(PR_SET_PDEATHSIG, SIGKILL) again', 'prctl', [PR.SET_PDEATHSIG, 9, 0, 0, 0]);
  w.check('prctl(PR_SET_KEEPCAPS, 0)', 'prctl', [PR.SET_KEEPCAPS, 0, 0, 0, 0]);

  const header = Buffer.alloc(8);
  header.writeUInt32LE(LINUX_CAPABILITY_VERSION_3, 0);
  const data = Buffer.alloc(24);
  writeCapWords(data, 0, expected.effective, expected.permitted, expected.inheritable);
  w.sys('capset (process.capabilities effective/permitted/inheritable)', 'capset', [header, data]);
  for (let cap = 0; cap <= lastCap; cap += 1) {
    if ((expected.ambient & (1n << BigInt(cap))) !== 0n) {
      w.check(`raise ambient capability ${cap}`, 'prctl', [PR.CAP_AMBIENT, PR.CAP_AMBIENT_RAISE, cap, 0, 0]);
    }
  }
  w.call('umask', [user.umask ?? 0o022]);
  w.check(`chdir ${proc.cwd} (process.cwd)`, 'chdir', [proc.cwd]);
  if (expected.noNewPrivileges) w.check('prctl(PR_SET_NO_NEW_PRIVS, 1)', 'prctl', [PR.SET_NO_NEW_PRIVS, 1, 0, 0, 0]);
  return expected;
}

// struct __user_cap_data_struct[2]: {effective, permitted, inheritable} for bits 0-31, then 32-63.
function writeCapWords(buf: Buffer, offset: number, eff: bigint, perm: bigint, inh: bigint): void {
  for (let word = 0; word < 2; word += 1) {
    const shift = BigInt(32 * word);
    const at = offset + 12 * word;
    buf.writeUInt32LE(Number((eff >> shift) & 0xffffffffn), at);
    buf.writeUInt32LE(Number((perm >> shift) & 0xffffffffn), at + 4);
    buf.writeUInt32LE(Number((inh >> shift) & 0xffffffffn), at + 8);
  }
}

/** Ambient capabilities the config lists that cannot be raised (not both permitted and inheritable). */
export function ignoredAmbient(proc: Process): string[] {
  const caps = proc.capabilities ?? {};
  return (caps.ambient ?? []).filter((name) => !(caps.permitted ?? []).includes(name) || !(caps.inheritable ?? []).includes(name));
}
