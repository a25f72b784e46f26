import { existsSync } from 'node:fs';
import type { Spec } from '../config/types.js';

/** A Linux security module, and the file that exists when the kernel runs it. */
interface Lsm {
  readonly name: string;
  readonly marker: string;
}
const APPARMOR: Lsm = { name: 'AppArmor', marker: '/sys/kernel/security/apparmor' };
const SELINUX: Lsm = { name: 'SELinux', marker: '/sys/fs/selinux/enforce' };

/**
 * Fields tsrun does not implement yet. Each is refused before anything is
 * created: ignoring a security setting (seccomp, an LSM label) or a
 * placement setting would run a container that is not what was asked for.
 */
const UNSUPPORTED: ReadonlyArray<{ path: string; present: (spec: Spec) => boolean; what: string; lsm?: Lsm }> = [
  { path: 'process.apparmorProfile', present: (s) => nonEmpty(s.process?.apparmorProfile), what: 'AppArmor profiles', lsm: APPARMOR },
  { path: 'process.selinuxLabel', present: (s) => nonEmpty(s.process?.selinuxLabel), what: 'SELinux labels', lsm: SELINUX },
  { path: 'linux.mountLabel', present: (s) => nonEmpty(s.linux?.mountLabel), what: 'SELinux mount labels', lsm: SELINUX },
  {
    // They would run an executable from the container's image as host root:
    // until they can run with the container's own identity (as `exec` will),
    // they are refused rather than run unconfined.
    path: 'hooks.startContainer',
    present: (s) => (s.hooks?.startContainer ?? []).length > 0,
    what: "startContainer hooks (they would run with the host's privileges, not the container's)",
  },
  { path: 'linux.intelRdt', present: (s) => s.linux?.intelRdt !== undefined, what: 'Intel RDT' },
  { path: 'linux.netDevices', present: (s) => Object.keys(s.linux?.netDevices ?? {}).length > 0, what: 'moving network devices' },
  { path: 'linux.memoryPolicy', present: (s) => s.linux?.memoryPolicy !== undefined, what: 'NUMA memory policies' },
  {
    path: 'mounts[].uidMappings',
    present: (s) => (s.mounts ?? []).some((m) => m.uidMappings !== undefined || m.gidMappings !== undefined),
    what: 'id-mapped mounts',
  },
];

export function refuseUnsupported(spec: Spec): void {
  const found = UNSUPPORTED.filter((u) => u.present(spec));
  if (found.length === 0) return;
  const lines = found.map((u) =>
    u.lsm !== undefined && !existsSync(u.lsm.marker)
      ? `${u.path}: ${u.lsm.name} is not enabled on this host (no ${u.lsm.marker}), so the label cannot be applied; remove the field or run on a host with ${u.lsm.name}`
      : `${u.path}: tsrun does not support ${u.what} yet; remove the field`,
  );
  throw new Error(lines.join('\n'));
}

function nonEmpty(value: string | undefined): boolean {
  return value !== undefined && value !== '';
}
