import { accessSync, constants, existsSync, lstatSync, readlinkSync, statSync } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';
import type { Mount, Process } from '../../config/types.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * process.args[0] could not be found, or is not executable, in runc's words
 * (engines read them to choose their exit code), and the exit status a shell
 * gives that failure: 127 not found, 126 not executable.
 */
export class MissingExecutableError extends Error {
  constructor(
    message: string,
    readonly exitCode: 126 | 127,
  ) {
    super(message);
  }
}

/** What an init execs at `start`: its program, or the failure to report then. */
export type StartProgram = { readonly path: string } | { readonly missing: MissingExecutableError };

/**
 * Resolve process.args[0] the way execvp would inside the container, but
 * from the host and before the container exists: the chain needs the answer
 * before clone(2), baked into its steps. Throws MissingExecutableError.
 */
export function findExecutable(proc: Process, rootfs: string, mounts: readonly Mount[], bundle: string): string {
  return lookUp(proc, (path) => hostPath(path, rootfs, mounts, bundle));
}

/**
 * The init's program. A missing one is not a `create` error: the
 * runtime-spec applies process.args at `start`, not before (docs/process.md,
 * "A missing executable"), so the process reports it then and exits as a
 * shell would.
 */
export function findStartProgram(proc: Process, rootfs: string, mounts: readonly Mount[], bundle: string): StartProgram {
  try {
    return { path: findExecutable(proc, rootfs, mounts, bundle) };
  } catch (error) {
    if (error instanceof MissingExecutableError) return { missing: error };
    throw error;
  }
}

/**
 * The same lookup inside a running container (for `exec`): through the
 * root of one of its processes, which shows every mount it has.
 */
export function findExecutableInProcess(proc: Process, pid: number): string {
  return lookUp(proc, (path) => resolveInRoot(`/proc/${pid}/root`, path)?.host);
}

function lookUp(proc: Process, hostPathOf: (path: string) => string | undefined): string {
  const name = proc.args?.[0];
  if (name === undefined || name === '') throw new Error('process.args: the container needs a command (args[0])');
  if (name.includes('/')) {
    const path = posix.resolve(proc.cwd ?? '/', name);
    const host = hostPathOf(path);
    if (host === undefined || !existsSync(host)) {
      throw new MissingExecutableError(`process.args[0]: exec: "${name}": stat ${path}: no such file or directory`, 127);
    }
    if (!isExecutable(host)) throw new MissingExecutableError(`process.args[0]: exec: "${name}": permission denied`, 126);
    return path;
  }
  const envPath = (proc.env ?? []).find((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH;
  for (const dir of envPath.split(':')) {
    const candidate = posix.join(posix.resolve('/', proc.cwd ?? '/', dir === '' ? '.' : dir), name);
    if (isExecutable(hostPathOf(candidate))) return candidate;
  }
  throw new MissingExecutableError(`process.args[0]: exec: "${name}": executable file not found in $PATH (${envPath})`, 127);
}

function isExecutable(path: string | undefined): boolean {
  if (path === undefined) return false;
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The host path behind a container path: through the bind mount that covers
 * it if any, else through the rootfs, with symlinks resolved as if the
 * rootfs were "/" (an absolute link never leaves it).
 */
export function hostPath(path: string, rootfs: string, mounts: readonly Mount[], bundle: string): string | undefined {
  const resolved = resolveInRoot(rootfs, path);
  // A bind mount may cover a directory the image does not have: match it on the plain path then.
  const inside = resolved?.inside ?? posix.normalize(path);
  const bind = [...mounts]
    .reverse()
    .find((m) => isBind(m) && (inside === m.destination || inside.startsWith(`${m.destination}/`)));
  if (bind?.source === undefined) return resolved?.host;
  const source = isAbsolute(bind.source) ? bind.source : join(bundle, bind.source);
  return join(source, inside.slice(bind.destination.length));
}

function isBind(m: Mount): boolean {
  return m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

/**
 * Walk `path` component by component under `root`, following symlinks inside it. Undefined
 * when a component is missing, unless `keepMissing`: then the rest is appended as written
 * (what a mkdir of the path would create).
 */
export function resolveInRoot(root: string, path: string, keepMissing = false): { inside: string; host: string } | undefined {
  let pending = path.split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const [part, ...rest] = pending as [string, ...string[]];
    pending = rest;
    if (part === '..') {
      done.pop();
      continue;
    }
    const host = join(root, ...done, part);
    let stat;
    try {
      stat = lstatSync(host);
    } catch {
      if (!keepMissing) return undefined;
      const inside = posix.join('/', ...done, part, ...pending);
      return { inside, host: join(root, inside) };
    }
    if (stat.isSymbolicLink()) {
      links += 1;
      if (links > 40) return undefined;
      const target = readlinkSync(host);
      if (isAbsolute(target)) done.length = 0;
      pending = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...pending];
      continue;
    }
    done.push(part);
  }
  return { inside: `/${done.join('/')}`, host: join(root, ...done) };
}
