import { CLONE } from '../../ffi/constants.js';
import type { LinuxNamespace, Spec } from '../config/types.js';

/** runtime-spec namespace type -> clone(2)/setns(2) flag and /proc/<pid>/ns name. */
export const NAMESPACES = {
  pid: { flag: CLONE.NEWPID, proc: 'pid' },
  network: { flag: CLONE.NEWNET, proc: 'net' },
  mount: { flag: CLONE.NEWNS, proc: 'mnt' },
  ipc: { flag: CLONE.NEWIPC, proc: 'ipc' },
  uts: { flag: CLONE.NEWUTS, proc: 'uts' },
  user: { flag: CLONE.NEWUSER, proc: 'user' },
  cgroup: { flag: CLONE.NEWCGROUP, proc: 'cgroup' },
  time: { flag: CLONE.NEWTIME, proc: 'time' },
} as const;

export type NamespaceType = keyof typeof NAMESPACES;

/** How the container gets each of its namespaces. */
export interface NamespacePlan {
  /** Flags for clone(2): every namespace created new. */
  readonly cloneFlags: number;
  /**
   * Namespaces the child creates with unshare(2) after joining a user
   * namespace by path, so that the joined user namespace owns them.
   */
  readonly unshareFlags: number;
  /** Namespaces joined from a path, in the order the kernel needs. */
  readonly joins: ReadonlyArray<{ type: NamespaceType; path: string }>;
  readonly newUser: boolean;
  readonly has: (type: NamespaceType) => boolean;
}

// Joined namespaces are entered in this order; user first, so that the
// others are entered with the capabilities it grants, and mount last,
// because entering it changes how the other paths resolve.
export const JOIN_ORDER: readonly NamespaceType[] = ['user', 'ipc', 'uts', 'network', 'pid', 'cgroup', 'time', 'mount'];

export function planNamespaces(spec: Spec): NamespacePlan {
  const list: readonly LinuxNamespace[] = spec.linux?.namespaces ?? [];
  let cloneFlags = 0;
  const joins: Array<{ type: NamespaceType; path: string }> = [];
  const present = new Set<NamespaceType>();
  list.forEach((ns, i) => {
    const type = ns.type as NamespaceType;
    const info = NAMESPACES[type];
    if (info === undefined) throw new Error(`linux.namespaces[${i}].type: unknown namespace "${ns.type}"`);
    present.add(type);
    if (ns.path === undefined || ns.path === '') cloneFlags |= info.flag;
    else joins.push({ type, path: ns.path });
  });
  joins.sort((a, b) => JOIN_ORDER.indexOf(a.type) - JOIN_ORDER.indexOf(b.type));
  const newUser = (cloneFlags & CLONE.NEWUSER) !== 0;
  const joinsUser = joins.some((j) => j.type === 'user');
  if (joinsUser && (cloneFlags & CLONE.NEWPID) !== 0) {
    // A new pid namespace made after joining the user namespace would hold
    // only the child's children, never the child itself.
    throw new Error(
      'linux.namespaces: a new pid namespace cannot be combined with a user namespace joined by path; ' +
        'join a pid namespace by path too, or let tsrun create the user namespace',
    );
  }
  if (joinsUser) return { cloneFlags: 0, unshareFlags: cloneFlags, joins, newUser, has: (type) => present.has(type) };
  return { cloneFlags, unshareFlags: 0, joins, newUser, has: (type) => present.has(type) };
}
