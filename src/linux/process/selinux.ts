import type { HostKernel } from '../../../ffi/host-kernel.js';
import { isDenied, SyscallError } from '../../../ffi/syscall-error.js';
import type { ChainWriter } from '../chain-writer.js';

const ENFORCE = '/sys/fs/selinux/enforce';
/** selinuxfs's context file: a write of a context the loaded policy does not define fails with EINVAL. */
const CHECK_CONTEXT = '/sys/fs/selinux/context';

/**
 * process.selinuxLabel, linux.mountLabel (or `exec --process-label`),
 * checked on the host before anything is created: SELinux must be on (its
 * filesystem mounted) and the loaded policy must define the context, which
 * the kernel says when the context is written to selinuxfs, as libselinux's
 * security_check_context does. Undefined or "" asks for nothing, as in runc.
 */
export function resolveSelinuxLabel(kernel: HostKernel, label: string | undefined, field: string): string | undefined {
  if (label === undefined || label === '') return undefined;
  if (!selinuxEnabled(kernel)) {
    throw new Error(
      `${field}: SELinux is not enabled on this host (no ${ENFORCE}), so the label ${label} cannot be applied; remove the field or run on a host with SELinux`,
    );
  }
  try {
    kernel.writeFile(CHECK_CONTEXT, label, field);
  } catch (error) {
    if (!(error instanceof SyscallError) || error.code !== 'EINVAL') throw error;
    throw new Error(`${field}: ${label} is not a valid SELinux context in the loaded policy (the kernel refused it at ${CHECK_CONTEXT}); use a context the policy defines`);
  }
  return label;
}

/**
 * linux.mountLabel: as resolveSelinuxLabel where SELinux is on, so an
 * invalid label is still refused. Where the kernel does not run SELinux
 * the label is left out with a warning, as runc and crun do: nothing on
 * such a host is labelled at all, so no confinement is lost, while a bundle
 * made for SELinux hosts (engines add the label by default) still runs.
 */
export function resolveMountLabel(kernel: HostKernel, label: string | undefined, warn: (message: string) => void): string | undefined {
  if (label === undefined || label === '') return undefined;
  if (!selinuxEnabled(kernel)) {
    warn(`linux.mountLabel: SELinux is not enabled on this host (no ${ENFORCE}), so the label ${label} is not applied`);
    return undefined;
  }
  return resolveSelinuxLabel(kernel, label, 'linux.mountLabel');
}

function selinuxEnabled(kernel: Pick<HostKernel, 'readFile'>): boolean {
  try {
    kernel.readFile(ENFORCE);
    return true;
  } catch (error) {
    if (error instanceof SyscallError && error.code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * The process asks for its label itself: a task's attr files take writes
 * only from that task. Like the AppArmor request (apparmor.ts) it is made
 * first, through the host's procfs, and is kept across namespaces,
 * credential changes and a fork until execve applies it:
 * - attr/exec: the label the process has from its execve on;
 * - attr/keycreate: the label of the keys it creates, among them the
 *   session keyring it joins (as runc labels it). execve resets it, so no
 *   key of the container's program gets it by surprise.
 */
export function planSelinuxLabel(w: ChainWriter, label: string | undefined, labelsKeyring: boolean): void {
  if (label === undefined) return;
  w.writeFile('process.selinuxLabel: may the policy exec into it?', '/proc/thread-self/attr/exec', label);
  if (labelsKeyring) w.writeFile('process.selinuxLabel, for the session keyring', '/proc/thread-self/attr/keycreate', label);
}

/**
 * Before execve, read the requests back: unlike AppArmor's, SELinux's attr
 * files show another task's own values. Reading them needs ptrace access,
 * which an unprivileged tsrun lacks; then the chain's checked writes are
 * all there is.
 */
export function verifySelinuxLabel(kernel: HostKernel, pid: number, label: string | undefined): void {
  if (label === undefined) return;
  const path = `/proc/${pid}/attr/exec`;
  let text: string;
  try {
    text = kernel.readFile(path);
  } catch (error) {
    if (isDenied(error)) return;
    throw error;
  }
  const got = text.replace(/\0/g, '').trim();
  if (got !== label) {
    throw new Error(`process.selinuxLabel: the container process (pid ${pid}) is set to exec as "${got}", not ${label} (${path})`);
  }
}
