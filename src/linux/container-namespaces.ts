import { statSync } from 'node:fs';
import { JOIN_ORDER, NAMESPACES, type NamespaceType } from './namespaces.js';

/**
 * The namespaces of a container's process that a new process must enter to
 * join it: those that differ from the caller's own (a container may share
 * the host's network, say), in the order they must be entered.
 */
export function namespacesOf(pid: number): Array<{ type: NamespaceType; path: string }> {
  return JOIN_ORDER.filter((type) => !sameNamespace(`/proc/self/ns/${NAMESPACES[type].proc}`, `/proc/${pid}/ns/${NAMESPACES[type].proc}`)).map(
    (type) => ({ type, path: `/proc/${pid}/ns/${NAMESPACES[type].proc}` }),
  );
}

/** Whether two /proc/<pid>/ns/<type> links name one namespace. */
export function sameNamespace(a: string, b: string): boolean {
  const x = statSync(a);
  const y = statSync(b);
  return x.dev === y.dev && x.ino === y.ino;
}
