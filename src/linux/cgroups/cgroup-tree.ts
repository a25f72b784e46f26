import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HostKernel } from '../../../ffi/host-kernel.js';
import { SyscallError } from '../../../ffi/syscall-error.js';

// What both cgroup versions share: a tree of directories, each with a cgroup.procs file.

/** Pids in a cgroup and every cgroup below it; a cgroup removed while we look holds none. */
export function treePids(dir: string): number[] {
  try {
    const pids = readFileSync(join(dir, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map(Number);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) pids.push(...treePids(join(dir, entry.name)));
    }
    return pids;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Signal every process of the tree once; one that exits meanwhile is no failure. Returns the warnings. */
export function signalTree(kernel: Pick<HostKernel, 'kill'>, dir: string, signal: number): string[] {
  const warnings: string[] = [];
  for (const pid of treePids(dir)) {
    try {
      kernel.kill(pid, signal);
    } catch (error) {
      if (!(error instanceof SyscallError && error.code === 'ESRCH')) warnings.push(`signal ${signal} to pid ${pid} of ${dir}: ${(error as Error).message}`);
    }
  }
  return warnings;
}

/**
 * Create a cgroup directory, and the parents that are missing. The cgroup
 * itself must be new: an existing one may hold other processes, which
 * delete would kill. Returns the directories created, deepest first.
 */
export function makeCgroupDir(kernel: Pick<HostKernel, 'mkdir' | 'rmdir'>, dir: string): string[] {
  const parents: string[] = [];
  for (let d = dirname(dir); !existsSync(d); d = dirname(d)) parents.unshift(d);
  const created: string[] = [];
  try {
    for (const parent of parents) {
      kernel.mkdir(parent);
      created.unshift(parent);
    }
    try {
      kernel.mkdir(dir);
    } catch (error) {
      if (error instanceof SyscallError && error.code === 'EEXIST') {
        throw new Error(`linux.cgroupsPath: the cgroup ${dir} already exists; tsrun gives each container a new cgroup of its own`);
      }
      throw error;
    }
    created.unshift(dir);
    return created;
  } catch (error) {
    removeEmpty(kernel, created);
    throw error;
  }
}

/** Remove cgroups deepest first; one already gone, or still in use by someone else, is left. */
export function removeEmpty(kernel: Pick<HostKernel, 'rmdir'>, dirs: readonly string[]): void {
  for (const dir of dirs) {
    try {
      kernel.rmdir(dir);
    } catch (error) {
      const code = error instanceof SyscallError ? error.code : '';
      if (code !== 'ENOENT' && code !== 'EBUSY' && code !== 'ENOTEMPTY') throw error;
    }
  }
}

const POLL_MS = 10;
// Processes killed a moment ago may still be leaving the cgroup: rmdir fails with EBUSY meanwhile.
const REMOVE_ATTEMPTS = 50;

/**
 * Remove a cgroup and every cgroup below it, children first, after `kill`
 * (which SIGKILLs what is left) on each attempt: a cgroup that is already
 * gone counts as removed. Resolves to a warning when it cannot.
 */
export async function removeTree(kernel: Pick<HostKernel, 'rmdir'>, dir: string, kill: () => void): Promise<string | undefined> {
  for (let attempt = 1; ; attempt++) {
    try {
      kill();
      removeRecursively(kernel, dir);
      return undefined;
    } catch (error) {
      const code = error instanceof SyscallError ? error.code : (error as NodeJS.ErrnoException).code;
      if (code !== 'EBUSY' || attempt === REMOVE_ATTEMPTS) return `cannot remove cgroup ${dir}: ${(error as Error).message}`;
      await sleep(POLL_MS);
    }
  }
}

function removeRecursively(kernel: Pick<HostKernel, 'rmdir'>, dir: string): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) {
    if (entry.isDirectory()) removeRecursively(kernel, join(dir, entry.name));
  }
  try {
    kernel.rmdir(dir);
  } catch (error) {
    if (!(error instanceof SyscallError && error.code === 'ENOENT')) throw error;
  }
}
