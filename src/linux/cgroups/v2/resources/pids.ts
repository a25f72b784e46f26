import type { LinuxPids } from '../../../../config/types.js';
import { cgroupWrite, type Planned } from './cgroup-write.js';

/**
 * linux.resources.pids.limit → pids.max; a negative limit (the spec says -1)
 * means "max". 0 is written as 0: runtime-spec 1.3 says it is a real limit
 * that runtimes SHOULD honour. (runc 1.4 writes 1 instead, because systemd
 * cannot express 0, and runc before 1.4 took 0 for "no limit"; tsrun does
 * not go through systemd.)
 */
export function planPids(pids: LinuxPids | undefined, p: Planned): void {
  if (pids === undefined) return;
  p.writes.push(cgroupWrite('pids.max', pids.limit < 0 ? 'max' : String(pids.limit), 'linux.resources.pids.limit'));
}
