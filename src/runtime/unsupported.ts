import type { Spec } from '../config/types.js';

/**
 * Fields tsrun does not implement yet. Each is refused before anything is
 * created: ignoring a security setting (seccomp, an LSM label) or a
 * placement setting would run a container that is not what was asked for.
 */
const UNSUPPORTED: ReadonlyArray<{ path: string; present: (spec: Spec) => boolean; what: string }> = [
  { path: 'process.apparmorProfile', present: (s) => nonEmpty(s.process?.apparmorProfile), what: 'AppArmor profiles' },
  { path: 'process.selinuxLabel', present: (s) => nonEmpty(s.process?.selinuxLabel), what: 'SELinux labels' },
  { path: 'linux.mountLabel', present: (s) => nonEmpty(s.linux?.mountLabel), what: 'SELinux mount labels' },
  {
    // They would run an executable from the container's image as host root:
    // until they can run with the container's own identity (as `exec` will),
    // they are refused rather than run unconfined.
    path: 'hooks.startContainer',
    present: (s) => (s.hooks?.startContainer ?? []).length > 0,
    what: "startContainer hooks (they would run with the host's privileges, not the container's)",
  },
  { path: 'process.scheduler', present: (s) => s.process?.scheduler !== undefined, what: 'scheduler policies' },
  { path: 'process.ioPriority', present: (s) => s.process?.ioPriority !== undefined, what: 'I/O priorities' },
  { path: 'process.execCPUAffinity', present: (s) => s.process?.execCPUAffinity !== undefined, what: 'CPU affinity' },
  { path: 'linux.personality', present: (s) => s.linux?.personality !== undefined, what: 'personality(2) domains' },
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
  const lines = found.map((u) => `${u.path}: tsrun does not support ${u.what} yet; remove the field`);
  throw new Error(lines.join('\n'));
}

function nonEmpty(value: string | undefined): boolean {
  return value !== undefined && value !== '';
}
