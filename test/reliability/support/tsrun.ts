import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { containerCgroupPath } from '../../../src/linux/cgroups/cgroups-path.js';
import { tsrunBin } from '../../integration/support/harness.js';

export interface Outcome {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Killed by us after the timeout. */
  readonly hung: boolean;
  readonly ms: number;
}

let serial = 0;

/**
 * bin/tsrun with --root (as `uid` if given), asynchronously, so that races and parallel
 * lifecycles are real. Output goes to files, not pipes: a created
 * container keeps tsrun's stdout and stderr as its own. The promise
 * settles when tsrun exits, not when its output is closed.
 */
export function tsrun(
  root: string,
  scratch: string,
  args: readonly string[],
  options: { timeoutMs?: number; onSpawn?: (pid: number) => void; env?: Readonly<Record<string, string>>; uid?: number } = {},
): Promise<Outcome> {
  const n = serial++;
  const out = join(scratch, `out-${process.pid}-${n}`);
  const err = join(scratch, `err-${process.pid}-${n}`);
  const outFd = openSync(out, 'w+');
  const errFd = openSync(err, 'w+');
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const env = options.env === undefined ? process.env : { ...process.env, ...options.env };
    // setpriv execs tsrun, which execs Node: the pid is tsrun's either way.
    const command =
      options.uid === undefined
        ? [tsrunBin, '--root', root, ...args]
        : ['setpriv', '--reuid', String(options.uid), '--regid', String(options.uid), '--clear-groups', tsrunBin, '--root', root, ...args];
    const child = spawn(command[0] as string, command.slice(1), { stdio: ['ignore', outFd, errFd], env });
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 20_000);
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (status, signal) => {
      clearTimeout(timer);
      closeSync(outFd);
      closeSync(errFd);
      const result = { status, signal, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8'), hung, ms: Date.now() - started };
      rmSync(out, { force: true });
      rmSync(err, { force: true });
      resolve(result);
    });
  });
}

/** A JavaScript stack trace, or a crash of Node itself, in tsrun's stderr. */
export function hasStackTrace(stderr: string): boolean {
  return /^\s+at .+(:\d+:\d+\)?|<anonymous>\)?)$/m.test(stderr) || /node:internal|Uncaught|FATAL ERROR|\bat file:\/\//.test(stderr);
}

interface Hierarchy {
  readonly mount: string;
  readonly version: 1 | 2;
  /** This process's own cgroup in it (tsrun, spawned by us, has the same). */
  readonly own: string;
}

/** Every cgroup hierarchy this host mounts (v1 controllers and the unified one), with our place in it. */
export function cgroupHierarchies(): Hierarchy[] {
  const own = readFileSync('/proc/self/cgroup', 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [, controllers = '', path = '/'] = line.split(':');
      return { controllers: controllers === '' ? [] : controllers.split(','), path };
    });
  const hierarchies: Hierarchy[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n')) {
    const [before = '', after = ''] = line.split(' - ');
    const [fstype = '', , superOptions = ''] = after.split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const mount = before.split(' ')[4] ?? '';
    const options = superOptions.split(',');
    const mine = own.find((entry) => (fstype === 'cgroup2' ? entry.controllers.length === 0 : entry.controllers.length > 0 && entry.controllers.every((c) => options.includes(c))));
    hierarchies.push({ mount, version: fstype === 'cgroup2' ? 2 : 1, own: mine?.path ?? '/' });
  }
  return hierarchies;
}

/** Where, on every hierarchy, tsrun would put the cgroup of container `id` with this linux.cgroupsPath. */
export function cgroupDirs(id: string, cgroupsPath: unknown): string[] {
  const configured = typeof cgroupsPath === 'string' ? cgroupsPath : undefined;
  const hierarchies = cgroupHierarchies();
  // The v1 driver (any v1 hierarchy: hybrid or legacy) puts a container without cgroupsPath
  // under tsrun's own cgroup in each hierarchy (src/linux/cgroups/v1/paths.ts), the v2 one at /<id>.
  const defaultUnderOwn = hierarchies.some((h) => h.version === 1);
  return hierarchies.flatMap(({ mount, own }) => {
    try {
      return [join(mount, containerCgroupPath(configured, id, { systemd: false, own, defaultUnderOwn }))];
    } catch {
      // A cgroupsPath tsrun cannot map (a bad systemd slice) names no directory.
      return [];
    }
  });
}

export interface Watched {
  /** The --root of the cases. */
  readonly root: string;
  /** Everything the cases own (bundles, rootfs): no mount may stay under it. */
  readonly sandbox: string;
  /** Cgroup directories the cases may create (cgroupDirs), with whether each existed before. */
  readonly cgroups: ReadonlyMap<string, boolean>;
}

/**
 * What a case left behind, as the kernel shows it: entries of its --root
 * (state directories, exec fifos), cgroup directories that did not exist
 * before, mounts under its sandbox (in this mount namespace), and processes
 * started for its --root (tsrun, or a container init that has not exec'd).
 */
export function leftovers(watched: Watched): string[] {
  const found: string[] = [];
  for (const entry of existsSync(watched.root) ? readdirSync(watched.root) : []) found.push(`state: ${join(watched.root, entry)}`);
  for (const [dir, existed] of watched.cgroups) if (!existed && existsSync(dir)) found.push(`cgroup: ${dir}`);
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const point = line.split(' ')[4];
    if (point !== undefined && (point === watched.sandbox || point.startsWith(`${watched.sandbox}/`))) found.push(`mount: ${point}`);
  }
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    if (Number(pid) === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // A container init keeps tsrun's command line until it execs; after that it lives in its cgroup, checked above.
    if (cmdline.split('\0').includes(watched.root)) found.push(`process: ${pid} ${cmdline.replaceAll('\0', ' ').slice(0, 120)}`);
  }
  return found;
}
