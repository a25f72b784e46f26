import type { Spec } from '../../config/types.js';

/**
 * Fields tsrun does not implement yet. Each is refused before anything is
 * created: ignoring a security setting (seccomp, an LSM label) or a
 * placement setting would run a container that is not what was asked for.
 * (An LSM label the host cannot apply is refused where it is resolved:
 * src/linux/process/apparmor.ts, selinux.ts.)
 */
const UNSUPPORTED: ReadonlyArray<{ path: string; present: (spec: Spec) => boolean; what: string }> = [
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
  throw new Error(found.map((u) => `${u.path}: tsrun does not support ${u.what} yet; remove the field`).join('\n'));
}
