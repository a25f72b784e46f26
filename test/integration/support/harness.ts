import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../../..');
export const tsrunBin = join(repoRoot, 'bin/tsrun');
export const exampleRootfs = join(repoRoot, 'examples/rootfs');

/** Why real-container tests cannot run here, or undefined when they can. */
export function cannotRunContainers(): string | undefined {
  if (process.getuid?.() !== 0) return 'integration tests create namespaces, mounts and cgroups: run them as root';
  if (!existsSync(join(repoRoot, 'dist/src/cli/main.js'))) return 'tsrun is not built: run `npm run build` first';
  if (!existsSync(join(exampleRootfs, 'bin/busybox'))) return 'no example rootfs: run examples/make-rootfs.sh first';
  return undefined;
}

export function skipReason(): string | undefined {
  const reason = cannotRunContainers();
  if (reason !== undefined) console.warn(`skipping integration tests: ${reason}`);
  return reason;
}

export interface Sandbox {
  /** --root for this test file: a fresh directory. */
  readonly root: string;
  /** runc's --root beside it. */
  readonly runcRoot: string;
  readonly dir: string;
  tsrun(args: readonly string[], options?: { input?: string; extraFds?: number[] }): SpawnSyncReturns<string>;
  bundle(name: string, edit: (config: ConfigObject) => void): string;
  /** The host pid of a container's init, from `tsrun state`. */
  pid(id: string): number;
  /** `run -d` a container whose init sleeps (after `edit`); returns its host pid. */
  running(id: string, edit?: (config: ConfigObject) => void): number;
  /**
   * runc (RUNC, when installed) on this sandbox's bundles, with a state root
   * of its own: the reference tsrun is compared with. `detached` for `run -d`,
   * whose container would keep captured pipes open.
   */
  runc(args: readonly string[], options?: { detached?: boolean }): SpawnSyncReturns<string>;
  cleanup(): void;
}

/** The runc the tests compare tsrun with (Debian's package). */
export const RUNC = '/usr/sbin/runc';
export const hasRunc = existsSync(RUNC);

// The config shape as JSON: tests edit it freely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ConfigObject = any;

export function sandbox(): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-it-'));
  // User-namespaced containers run as unprivileged host ids: they must be able to reach their rootfs.
  chmodSync(dir, 0o755);
  const root = join(dir, 'state');
  const runcRoot = join(dir, 'runc-state');
  // Mount destinations get created in the rootfs: each sandbox works on its own copy.
  const rootfs = join(dir, 'rootfs');
  cpSync(exampleRootfs, rootfs, { recursive: true, verbatimSymlinks: true });
  let counter = 0;
  return {
    root,
    runcRoot,
    dir,
    tsrun(args, options = {}) {
      // Files, not pipes: a created container keeps tsrun's stdout and stderr
      // as its own, and spawnSync would wait for those pipes to close.
      const out = join(dir, `out-${counter}`);
      const err = join(dir, `err-${counter++}`);
      const outFd = openSync(out, 'w+');
      const errFd = openSync(err, 'w+');
      try {
        const result = spawnSync(tsrunBin, ['--root', root, ...args], {
          encoding: 'utf8',
          input: options.input ?? '',
          stdio: ['pipe', outFd, errFd, ...(options.extraFds ?? [])],
          timeout: 30_000,
        });
        return { ...result, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
      } finally {
        closeSync(outFd);
        closeSync(errFd);
      }
    },
    bundle(name, edit) {
      const bundle = join(dir, name);
      mkdirSync(bundle, { recursive: true });
      const config = baseConfig();
      config.root.path = rootfs;
      edit(config);
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(config, null, 2));
      return bundle;
    },
    pid(id) {
      return JSON.parse(this.tsrun(['state', id]).stdout).pid as number;
    },
    running(id, edit = () => {}) {
      const bundle = this.bundle(id, (c) => {
        c.process.args = ['sleep', '1000'];
        edit(c);
      });
      const r = this.tsrun(['run', '-d', '--bundle', bundle, id]);
      if (r.status !== 0) throw new Error(`run -d ${id} failed: ${r.stderr}`);
      return this.pid(id);
    },
    runc(args, options = {}) {
      return spawnSync(RUNC, ['--root', runcRoot, ...args], {
        encoding: 'utf8',
        timeout: 30_000,
        ...(options.detached === true ? { stdio: 'ignore' as const } : {}),
      });
    },
    cleanup() {
      for (const id of existsSync(root) ? readdirSync(root) : []) {
        spawnSync(tsrunBin, ['--root', root, 'delete', '--force', id], { encoding: 'utf8' });
      }
      for (const id of existsSync(runcRoot) ? readdirSync(runcRoot) : []) {
        spawnSync(RUNC, ['--root', runcRoot, 'delete', '--force', id], { encoding: 'utf8' });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A container that runs as root with runc's default-like security settings. */
export function baseConfig(): ConfigObject {
  const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  return {
    ociVersion: '1.3.0',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ['/bin/true'],
      env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'],
      cwd: '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      noNewPrivileges: true,
    },
    root: { path: exampleRootfs, readonly: true },
    hostname: 'tsrun-test',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
      maskedPaths: ['/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/timer_list', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/** pid, process group, session, controlling tty (0: none) and the tty's foreground group, from a /proc/<pid>/stat line. */
export function sessionOf(stat: string): { pid: number; pgid: number; sid: number; tty: number; tpgid: number } {
  // The fields after the command name, which is in parentheses and may contain spaces: state, ppid, pgrp, session, tty_nr, tpgid.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).trim().split(' ');
  const field = (i: number) => Number(rest[i]);
  return { pid: Number(stat.trim().split(' ')[0]), pgid: field(2), sid: field(3), tty: field(4), tpgid: field(5) };
}

/** Run a shell script as the container's process. */
export function shell(config: ConfigObject, script: string): void {
  config.process.args = ['/bin/sh', '-c', script];
}

/** The cgroup2 directory of a container path, for asserting cleanup. */
export function cgroup2Root(): string {
  const line = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((l) => l.includes(' - cgroup2 '));
  if (line === undefined) throw new Error('no cgroup2 mount on this host');
  return line.split(' ')[4] as string;
}

export const NOBODY = 65534;

export interface NobodyBundle {
  /** A fresh directory owned by nobody, holding `bundle` (with a copy of the example rootfs). */
  readonly dir: string;
  readonly bundle: string;
  /**
   * tsrun as nobody, in the bundle. Output is captured through pipes: a
   * detached container would keep them open, so `run -d` passes `detached`
   * and gets no output back.
   */
  tsrun(args: readonly string[], options?: { detached?: boolean }): SpawnSyncReturns<string>;
  cleanup(): void;
}

/** What an unprivileged caller (rootless) starts from: a bundle of its own. */
export function nobodyBundle(prefix: string): NobodyBundle {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  const bundle = join(dir, 'bundle');
  cpSync(exampleRootfs, join(bundle, 'rootfs'), { recursive: true, verbatimSymlinks: true });
  spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, dir]);
  return {
    dir,
    bundle,
    tsrun(args, options = {}) {
      return spawnSync('setpriv', ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', tsrunBin, ...args], {
        cwd: bundle,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        ...(options.detached === true ? { stdio: 'ignore' as const } : {}),
      });
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
