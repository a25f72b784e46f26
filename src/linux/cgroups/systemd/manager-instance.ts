import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Which systemd makes the container's scope: PID 1 for root, as runc does;
 * for an unprivileged caller (rootless podman), the caller's own user
 * instance (user@<uid>.service), as runc does with its user bus. Both are
 * reached on their private socket, peer to peer.
 */
export interface SystemdInstance {
  readonly socket: string;
  /** The caller's uid as systemd sees it (peer credentials), for the EXTERNAL handshake. */
  readonly uid: number;
  /**
   * The instance's cgroup, from the cgroup2 root: "" for PID 1, whose
   * slices start at the root; "/user.slice/user-1000.slice/user@1000.service"
   * for the user instance of uid 1000, whose slices live below it.
   */
  readonly base: string;
}

/** sd_booted(3): systemd runs as this host's init when this directory exists. */
const BOOTED_MARKER = '/run/systemd/system';
const SYSTEM_SOCKET = '/run/systemd/private';

/** The systemd instance to ask, or why there is none to ask. */
export function systemdInstance(privileged: boolean, cgroupRoot: string): SystemdInstance | string {
  if (!existsSync(BOOTED_MARKER)) return `systemd is not this host's init (no ${BOOTED_MARKER})`;
  if (privileged) {
    return existsSync(SYSTEM_SOCKET) ? { socket: SYSTEM_SOCKET, uid: 0, base: '' } : `systemd has no private socket at ${SYSTEM_SOCKET}`;
  }
  const uid = hostUid();
  const runtimeDir = process.env['XDG_RUNTIME_DIR'] || `/run/user/${uid}`;
  const socket = join(runtimeDir, 'systemd/private');
  if (!existsSync(socket)) return `no systemd user instance answers for uid ${uid} (no ${socket}; XDG_RUNTIME_DIR names its directory)`;
  // systemd's own naming: user@<uid>.service lives in user-<uid>.slice of user.slice.
  const base = `/user.slice/user-${uid}.slice/user@${uid}.service`;
  if (!existsSync(join(cgroupRoot, base))) return `systemd's user instance for uid ${uid} has no cgroup at ${join(cgroupRoot, base)}`;
  return { socket, uid, base };
}

/**
 * The caller's uid outside any user namespace it is in (root in rootless
 * podman's namespace is the user who ran podman): systemd checks the
 * handshake's uid against the socket's peer credentials, which the kernel
 * gives in systemd's namespace.
 */
export function hostUid(uidMap = readFileSync('/proc/self/uid_map', 'utf8'), euid = process.geteuid?.() ?? 0): number {
  for (const line of uidMap.trim().split('\n')) {
    const [inside, outside, count] = line.trim().split(/\s+/).map(Number) as [number, number, number];
    if (euid >= inside && euid < inside + count) return outside + (euid - inside);
  }
  return euid;
}
