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

function formatMap(mappings: readonly IdMapping[] | undefined): string {
  return (mappings ?? []).map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

/** linux.timeOffsets, written before the process enters its new time namespace. */
export function writeTimeOffsets(kernel: HostKernel, pid: number, spec: Spec): void {
  const offsets = spec.linux?.timeOffsets ?? {};
  const lines = Object.entries(offsets).map(([clock, o]) => `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}\n`);
  if (lines.length > 0) kernel.writeFile(`/proc/${pid}/timens_offsets`, lines.join(''), 'linux.timeOffsets');
}
