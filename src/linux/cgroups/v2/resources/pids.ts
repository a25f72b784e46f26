import type { LinuxPids } from '../../../../config/types.js';
import { cgroupWrite, type Planned } from './cgroup-write.js';

/**
 * linux.resources.pids.limit → pids.max, the same file on cgroup v1 and v2.
 * A negative limit (the spec says -1) is "max", what every new cgroup has.
 *
 * 0 writes nothing: the container gets no limit, with a warning. That is
 * what runc makes of it (Debian's 1.1, the reference here, takes 0 for "not
 * set", 1.2 for "no limit"), and what the engines that send it mean by it
 * (podman before 5.4 sends 0 for `--pids-limit -1`, CRI-O to unset it).
 * runtime-spec 1.3 calls 0 a real limit, but pids.max 0 would leave the
 * container unable to fork at all: engines would see their containers
 * break where runc runs them, so tsrun follows the engines.
 */
export function planPids(pids: LinuxPids | undefined, p: Planned): void {
  if (pids === undefined) return;
  if (pids.limit === 0) {
    p.ignored.push('linux.resources.pids.limit: 0 is taken as no limit, as runc and the engines that send it mean it; give -1 for no limit, or a positive limit');
    return;
  }
  const unlimited = pids.limit < 0;
  p.writes.push(cgroupWrite('pids.max', unlimited ? 'max' : String(pids.limit), 'linux.resources.pids.limit', unlimited ? { kernelDefault: true } : {}));
}
