import type { HostKernel } from '../../../ffi/host-kernel.js';
import { O } from '../../../ffi/constants.js';
import { SyscallError } from '../../../ffi/syscall-error.js';
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
  try {
    kernel.readFile(ENFORCE);
  } catch (error) {
    if (!(error instanceof SyscallError)) throw error;
    throw new Error(
      `${field}: SELinux is not enabled on this host (no ${ENFORCE}), so the label ${label} cannot be applied; remove the field or run on a host with SELinux`,
    );
  }
  try {
    kernel.writeFile(CHECK_CONTEXT, label);
  } catch (error) {
    if (!(error instanceof SyscallError) || error.code !== 'EINVAL') throw error;
    throw new Error(`${field}: ${label} is not a valid SELinux context in the loaded policy (the kernel refused it at ${CHECK_CONTEXT}); use a context the policy defines`);
  }
  return label;
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
  const attrs = labelsKeyring ? ['exec', 'keycreate'] : ['exec'];
  for (const attr of attrs) {
    const path = `/proc/thread-self/attr/${attr}`;
    const fd = w.open(`open ${path} (process.selinuxLabel)`, path, O.WRONLY);
    w.check(`write ${label} to ${path} (process.selinuxLabel: is it a process context the policy allows?)`, 'write', [fd, label, Buffer.byteLength(label)]);
    w.close(fd);
  }
}
