import { readFileSync } from 'node:fs';

/**
 * Whether this process runs in the host's user namespace: its uid_map is the
 * identity over the whole range. Inside another one (rootless podman runs its
 * runtime so) euid 0 is not the host's root: it owns no host cgroup, cannot
 * write /run, and must be treated as rootless, as runc does.
 */
export function inInitialUserNamespace(readMap: () => string = () => readFileSync('/proc/self/uid_map', 'utf8')): boolean {
  const lines = readMap().trim().split('\n');
  if (lines.length !== 1) return false;
  const [inside, outside, count] = (lines[0] ?? '').trim().split(/\s+/).map(Number);
  return inside === 0 && outside === 0 && count === 4294967295;
}

/** Root of the host: euid 0 in the host's user namespace. */
export function isHostRoot(): boolean {
  return process.geteuid?.() === 0 && inInitialUserNamespace();
}
