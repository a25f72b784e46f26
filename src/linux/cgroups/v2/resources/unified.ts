import { cgroupWrite, type Planned } from './cgroup-write.js';

/**
 * Core files that belong to the runtime's own bookkeeping: which processes
 * are in the cgroup, which controllers its children get, its type, freezing
 * and killing. Set through `unified`, they would break create, pause or
 * delete, so they are refused.
 */
const RUNTIME_OWNED = new Set(['cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control', 'cgroup.type', 'cgroup.freeze', 'cgroup.kill']);

/**
 * linux.resources.unified: cgroup v2 files written as given, after every
 * converted field, so they win where both set the same file (as in runc and
 * crun). A key must name a file of the container's cgroup,
 * "<controller>.<name>": no path, and a controller the host has (checked with
 * the other controllers, see controllers.ts) or the core "cgroup" prefix.
 * Files the runtime spec does not know are still written, as it requires.
 *
 * A value of several lines is written one line at a time: files such as
 * io.max take one device per write(2).
 */
export function planUnified(unified: Readonly<Record<string, string>> | undefined, p: Planned): void {
  for (const [key, value] of Object.entries(unified ?? {})) {
    const field = `linux.resources.unified[${JSON.stringify(key)}]`;
    const problem = keyProblem(key);
    if (problem !== undefined) {
      p.problems.push(`${field}: ${problem}`);
      continue;
    }
    for (const line of value.split('\n')) {
      if (line.trim() !== '') p.writes.push(cgroupWrite(key, line, field));
    }
  }
}

function keyProblem(key: string): string | undefined {
  if (key.includes('/') || key.includes('..') || key.includes('\0')) {
    return 'a key names one file of the container\'s cgroup: no "/", "..", or NUL';
  }
  if (!/^[a-z][a-z0-9_]*\.[^.]/.test(key)) {
    return 'a key is "<controller>.<file>", such as "memory.high" or "io.max"';
  }
  if (RUNTIME_OWNED.has(key)) {
    return `${key} is managed by the runtime (processes, child controllers, freezing, killing); setting it would break the container's lifecycle`;
  }
  return undefined;
}
