import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { readMountInfo, type MountInfoEntry } from '../mountinfo.js';

/** One mounted cgroup hierarchy. */
export interface Hierarchy {
  /** 2 for cgroup2; 1 for a cgroup v1 hierarchy. */
  readonly version: 1 | 2;
  /**
   * Its name in /proc/<pid>/cgroup: "" for cgroup2, else the v1 controllers
   * it carries, comma-joined ("cpu,cpuacct", "memory", "name=systemd").
   */
  readonly name: string;
  /** v1: the controllers it carries (a named hierarchy such as name=systemd carries none). */
  readonly controllers: readonly string[];
  readonly mountPoint: string;
  /** The cgroup shown at mountPoint: "/" unless only a subtree is mounted (inside a container). */
  readonly mountRoot: string;
}

/**
 * How this host mounts cgroups: "unified" (cgroup2 alone), "hybrid" (v1
 * controllers, plus a cgroup2 tree, usually at /sys/fs/cgroup/unified, that
 * holds the controllers no v1 hierarchy took) or "legacy" (v1 alone).
 */
export interface CgroupLayout {
  readonly kind: 'unified' | 'hybrid' | 'legacy';
  readonly unified: Hierarchy | undefined;
  /** Every v1 hierarchy, named ones included, once each. */
  readonly v1: readonly Hierarchy[];
}

// Mount options of a v1 cgroup filesystem that are not controllers.
const V1_OPTIONS = new Set(['rw', 'ro', 'noprefix', 'xattr', 'clone_children', 'cpuset_v2_mode', 'none', 'all']);

export function cgroupLayout(mounts: readonly MountInfoEntry[] = readMountInfo()): CgroupLayout {
  const unifiedMount = mounts.find((m) => m.fsType === 'cgroup2');
  const unified: Hierarchy | undefined =
    unifiedMount === undefined ? undefined : { version: 2, name: '', controllers: [], mountPoint: unifiedMount.mountPoint, mountRoot: unifiedMount.root };
  const v1: Hierarchy[] = [];
  for (const m of mounts) {
    if (m.fsType !== 'cgroup') continue;
    const names = m.superOptions.filter((o) => !V1_OPTIONS.has(o) && !o.startsWith('release_agent='));
    const controllers = names.filter((o) => !o.startsWith('name='));
    const named = names.find((o) => o.startsWith('name='));
    const name = [...controllers, ...(named === undefined ? [] : [named])].join(',');
    // A hierarchy mounted twice (or co-mounted controllers linked under two names) counts once.
    if (name === '' || v1.some((h) => h.name === name)) continue;
    v1.push({ version: 1, name, controllers, mountPoint: m.mountPoint, mountRoot: m.root });
  }
  if (v1.length === 0) {
    if (unified === undefined) throw new Error('no cgroup filesystem is mounted on this host (mount cgroup2 on /sys/fs/cgroup)');
    return { kind: 'unified', unified, v1 };
  }
  return { kind: unified === undefined ? 'legacy' : 'hybrid', unified, v1 };
}

/**
 * The cgroup of a process in each hierarchy, from /proc/<pid>/cgroup
 * ("hierarchy-id:name:path" lines), keyed by the hierarchy's name.
 */
export function processCgroups(pid: number | 'self' = 'self'): Map<string, string> {
  return parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
}

export function parseProcCgroup(text: string): Map<string, string> {
  const cgroups = new Map<string, string>();
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    cgroups.set(line.slice(first + 1, second), line.slice(second + 1));
  }
  return cgroups;
}

/** The directory of cgroup `path` (as /proc/<pid>/cgroup writes it) in a hierarchy. */
export function directoryOf(hierarchy: Hierarchy, path: string): string {
  return join(hierarchy.mountPoint, relative(hierarchy.mountRoot, path));
}
