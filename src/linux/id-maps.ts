import type { IdMapping, Spec } from '../config/types.js';
import type { HostKernel } from '../../ffi/host-kernel.js';

/**
 * Write the new user namespace's uid_map and gid_map from outside, as the
 * parent (only a process outside the namespace with CAP_SETUID over it may
 * map arbitrary ranges). An unprivileged caller must deny setgroups first.
 */
export function writeIdMaps(kernel: HostKernel, pid: number, spec: Spec, privileged: boolean): void {
  const linux = spec.linux ?? {};
  if (!privileged) kernel.writeFile(`/proc/${pid}/setgroups`, 'deny', 'linux.uidMappings (unprivileged caller)');
  kernel.writeFile(`/proc/${pid}/uid_map`, formatMap(linux.uidMappings), 'linux.uidMappings');
  kernel.writeFile(`/proc/${pid}/gid_map`, formatMap(linux.gidMappings), 'linux.gidMappings');
}

/**
 * user_namespaces(7): without CAP_SETUID (CAP_SETGID) over the new namespace's
 * parent, a process may write only one line, of size 1, mapping its own
 * effective uid (gid). Checked before clone, so that the error names the
 * field and the id instead of a bare EPERM from the write.
 */
export function assertMappableByCaller(spec: Spec, euid: number, egid: number): void {
  const fields = [
    ['uidMappings', euid, 'uid'],
    ['gidMappings', egid, 'gid'],
  ] as const;
  for (const [field, own, kind] of fields) {
    const mappings = spec.linux?.[field] ?? [];
    const [only] = mappings;
    if (mappings.length === 1 && only?.hostID === own && only.size === 1) continue;
    throw new Error(
      `linux.${field}: an unprivileged caller may map only its own ${kind}, once and with size 1 ` +
        `([{ "containerID": 0, "hostID": ${own}, "size": 1 }]); the kernel refuses any other map (user_namespaces(7)): ` +
        'use that, or run tsrun as root (rootless podman maps ranges through newuidmap and calls tsrun as root of its namespace)',
    );
  }
}

function formatMap(mappings: readonly IdMapping[] | undefined): string {
  return (mappings ?? []).map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

/** linux.timeOffsets, written before the process enters its new time namespace. */
export function writeTimeOffsets(kernel: HostKernel, pid: number, spec: Spec): void {
  const offsets = spec.linux?.timeOffsets ?? {};
  const lines = Object.entries(offsets).map(([clock, o]) => `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}\n`);
  if (lines.length > 0) kernel.writeFile(`/proc/${pid}/timens_offsets`, lines.join(''), 'linux.timeOffsets');
}
