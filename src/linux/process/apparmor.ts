import type { HostKernel } from '../../../ffi/host-kernel.js';
import { isDenied, SyscallError } from '../../../ffi/syscall-error.js';
import type { ChainWriter } from '../chain-writer.js';

/** A profile the process changes to at its execve, and the procfs file that asks for it. */
export interface AppArmorExec {
  readonly profile: string;
  /** In the process's own procfs directory, /proc/thread-self. */
  readonly attrFile: string;
}

const ENABLED = '/sys/module/apparmor/parameters/enabled';
const PROFILES = '/sys/kernel/security/apparmor/profiles';
/** Not a profile: the label of a process without one, always a valid target. */
const UNCONFINED = 'unconfined';
/** AppArmor's own attr directory (Linux ≥ 5.8), which another LSM cannot claim. */
const APPARMOR_EXEC = '/proc/thread-self/attr/apparmor/exec';
const LEGACY_EXEC = '/proc/thread-self/attr/exec';

/**
 * process.apparmorProfile (or `exec --apparmor`), checked on the host before
 * anything is created. The kernel must run AppArmor, and the profile must be
 * loaded: the chain would otherwise fail only after the namespaces exist.
 * Profiles are listed only to a policy viewer (root); an unprivileged tsrun
 * that cannot read the list leaves the check to the chain's own write.
 * Undefined or "" asks for nothing, as in runc.
 */
export function resolveAppArmor(kernel: HostKernel, profile: string | undefined, field: string): AppArmorExec | undefined {
  if (profile === undefined || profile === '') return undefined;
  const enabled = tryRead(kernel, ENABLED);
  const profiles = tryRead(kernel, PROFILES);
  // A list only root may read still proves that securityfs is mounted.
  const listed = typeof profiles === 'string' || isDenied(profiles);
  if (typeof enabled !== 'string' || !enabled.startsWith('Y') || !listed) {
    throw new Error(
      `${field}: AppArmor is not enabled on this host (${ENABLED} is not Y, or securityfs is not mounted on /sys/kernel/security), so the profile ${profile} cannot be applied; remove the field or run on a host with AppArmor`,
    );
  }
  // A namespaced name (":ns:profile") or a stack ("a//&b") is not in the list as such.
  const listable = profile !== UNCONFINED && !profile.startsWith(':') && !profile.includes('//&');
  if (typeof profiles === 'string' && listable && !profileNames(profiles).has(profile)) {
    throw new Error(
      `${field}: the AppArmor profile ${profile} is not loaded (not in ${PROFILES}); load it first (apparmor_parser -r <file>) or name a loaded one`,
    );
  }
  const current = tryRead(kernel, '/proc/thread-self/attr/apparmor/current');
  const attrFile = current instanceof SyscallError && current.code === 'ENOENT' ? LEGACY_EXEC : APPARMOR_EXEC;
  return { profile, attrFile };
}

/**
 * The process asks for the profile itself: a task's attr files take writes
 * only from that task. The change applies at its next execve, so it is
 * asked for at once, through the host's procfs, which nothing in the
 * container can stand in for (a /proc of the image's or of a volume's,
 * the class of CVE-2019-16884), and before any setns or unshare, credential
 * change or fork: the request is kept across all of them (a forked child
 * inherits it).
 *
 * The parent cannot read the request back: the kernel answers a read of
 * another task's attr/exec from the reader's own context. So the write's
 * checked result is the proof before execve, and tests read the label the
 * process runs under (attr/current) after it.
 */
export function planAppArmorExec(w: ChainWriter, apparmor: AppArmorExec | undefined): void {
  if (apparmor === undefined) return;
  w.writeFile('process.apparmorProfile: is the profile loaded?', apparmor.attrFile, `exec ${apparmor.profile}`);
}

/** The file's text, or the error of a failed read(2): absence and denial are answers here. */
function tryRead(kernel: HostKernel, path: string): string | SyscallError {
  try {
    return kernel.readFile(path);
  } catch (error) {
    if (error instanceof SyscallError) return error;
    throw error;
  }
}


/** One "name (mode)" per line; a name may itself contain spaces. */
function profileNames(list: string): Set<string> {
  return new Set(list.split('\n').filter((line) => line !== '').map((line) => line.replace(/ \([^()]*\)$/, '')));
}
