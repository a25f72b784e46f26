import { existsSync } from 'node:fs';
import { readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { lastLine, runCommand } from './exec.js';
import type { Runtime } from './runtimes.js';

const COMMAND_TIMEOUT_MS = 30_000;

/**
 * Container ids the runtime knows (`list -q`), or null when it cannot tell. A program that
 * dies before its deferred cleanup (util.Fatal, a timeout) leaves its container behind; the ids
 * present before a program ran are never touched.
 */
export async function listContainers(runtime: Runtime): Promise<Set<string> | null> {
  const result = await runCommand(runtime.path, ['list', '-q'], { timeoutMs: COMMAND_TIMEOUT_MS });
  if (result.code !== 0) return null;
  return new Set(result.stdout.split('\n').map((id) => id.trim()).filter((id) => id !== ''));
}

export interface Leftover {
  readonly id: string;
  /** null when `delete --force` removed it. */
  readonly error: string | null;
}

/** Force-deletes the containers that appeared since `before`. */
export async function removeLeftovers(runtime: Runtime, before: Set<string> | null): Promise<Leftover[]> {
  if (before === null) return [];
  const after = await listContainers(runtime);
  if (after === null) return [];
  const leftovers: Leftover[] = [];
  for (const id of after) {
    if (before.has(id)) continue;
    const result = await runCommand(runtime.path, ['delete', '--force', id], { timeoutMs: COMMAND_TIMEOUT_MS });
    leftovers.push({ id, error: result.code === 0 ? null : result.spawnError ?? lastLine(result.stderr) });
  }
  return leftovers;
}

/**
 * Unmounts whatever is mounted below `dir`, deepest first. A container without a mount namespace
 * (linux_ns_itype) gets its /proc, /dev and /sys mounted in the host's namespace, inside its bundle;
 * nothing else would ever unmount them. Returns one line on what it found, or nothing.
 */
export async function unmountUnder(dir: string): Promise<string[]> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const mountPoints = mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((field): field is string => field !== undefined)
    // Mount points escape space, tab, newline and backslash as octal.
    .map((field) => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((mountPoint) => mountPoint.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  if (mountPoints.length === 0) return [];
  const failures: string[] = [];
  for (const mountPoint of mountPoints) {
    // Lazy: a process of a not-yet-reaped container may still hold it.
    const result = await runCommand('umount', ['-l', mountPoint], { timeoutMs: COMMAND_TIMEOUT_MS });
    if (result.code !== 0) failures.push(`${mountPoint}: ${result.spawnError ?? lastLine(result.stderr)}`);
  }
  const relative = mountPoints.map((mountPoint) => mountPoint.slice(dir.length + 1)).reverse();
  const found = `${mountPoints.length} mounts left in the host namespace under $TMPDIR (${relative.join(', ')})`;
  return [failures.length === 0 ? `${found}, unmounted` : `${found}, umount failed for ${failures.join('; ')}`];
}

// The suite's cgroupsPath values (cgroups.AbsCgroupPath, cgroups.RelCgroupPath), deepest first.
// A runtime removes the container's own cgroup on delete but not the parents it had to create.
const SUITE_CGROUPS = ['cgrouptest', 'testdir/cgrouptest/container', 'testdir/cgrouptest', 'testdir'];

/**
 * Removes the suite's cgroups from every hierarchy, both at its root (absolute cgroupsPath) and
 * below this process's own cgroup (relative cgroupsPath). Only the suite's names, and only with
 * rmdir, which the kernel refuses for a cgroup that still has processes or children.
 */
export async function removeSuiteCgroups(): Promise<string[]> {
  const [mountinfo, ownCgroups] = await Promise.all([readFile('/proc/self/mountinfo', 'utf8'), readFile('/proc/self/cgroup', 'utf8')]);
  const mounts = mountinfo
    .split('\n')
    .filter((line) => /^cgroup2? /.test(line.split(' - ')[1] ?? ''))
    .map((line) => line.split(' ')[4])
    .filter((mountPoint): mountPoint is string => mountPoint !== undefined);
  const ownPaths = new Set(['/', ...ownCgroups.split('\n').map((line) => line.split(':').slice(2).join(':')).filter((path) => path !== '')]);
  const removed = new Map<string, Set<string>>();
  const failed: string[] = [];
  for (const mount of mounts) {
    for (const own of ownPaths) {
      for (const name of SUITE_CGROUPS) {
        const path = join(mount, own, name);
        if (!existsSync(path)) continue;
        try {
          await rmdir(path);
          removed.set(name, (removed.get(name) ?? new Set()).add(mount));
        } catch (error) {
          failed.push(`${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
        }
      }
    }
  }
  const messages: string[] = [];
  if (removed.size > 0) {
    const names = [...removed].map(([name, inMounts]) => `${name} in ${inMounts.size} hierarch${inMounts.size === 1 ? 'y' : 'ies'}`);
    messages.push(`empty cgroups of the suite's cgroupsPath left behind (removed): ${names.join(', ')}`);
  }
  if (failed.length > 0) messages.push(`cgroups of the suite's cgroupsPath that could not be removed: ${failed.join(', ')}`);
  return messages;
}
