import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { exampleRootfs, tsrunBin } from './harness.js';

// What the engine tests share: both runtimes, side by side, with the engine
// as the judge of each, and the engine's own log as the witness of runtime errors.

export const RUNTIMES = { runc: '/usr/sbin/runc', tsrun: tsrunBin } as const;
export type Runtime = keyof typeof RUNTIMES;
export const BOTH = ['runc', 'tsrun'] as const;

/** The same operation with each runtime, runc first: what runc gives is what tsrun must give. */
export function both<T>(operation: (runtime: Runtime) => T): Record<Runtime, T> {
  return { runc: operation('runc'), tsrun: operation('tsrun') };
}

/** Polls until `done` holds; the error names what was awaited. */
export async function waitFor(what: string, done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * An engine's log file, read from a mark: the error lines an operation left
 * there are what the engine makes of the runtime's answers.
 */
export class EngineLog {
  constructor(readonly path: string) {}

  mark(): number {
    try {
      return statSync(this.path).size;
    } catch {
      return 0;
    }
  }

  /** The lines at level error since `mark`. */
  errorsSince(mark: number): string[] {
    const size = this.mark();
    if (size <= mark) return [];
    const buffer = Buffer.alloc(size - mark);
    const fd = openSync(this.path, 'r');
    try {
      readSync(fd, buffer, 0, buffer.length, mark);
    } finally {
      closeSync(fd);
    }
    return buffer
      .toString('utf8')
      .split('\n')
      .filter((line) => line.includes('level=error'));
  }

  tail(lines = 40): string {
    try {
      return readFileSync(this.path, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}

/**
 * A container's init that ticks a counter in /dev/shm/tick every 0.1 s with
 * shell builtins only (read -t on a fifo nobody writes), beside one sleeping
 * child: exactly 2 processes at any moment, and a frozen container shows as
 * a counter that stands still.
 */
export const TICKER = 'sleep 1000 & mkfifo /dev/shm/f; exec 3<>/dev/shm/f; i=0; while :; do i=$((i+1)); echo $i > /dev/shm/tick; read -t 0.1 -u 3 x; done';

/** The ticker's counter, read from the host through the container's root. */
export function tick(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/root/dev/shm/tick`, 'utf8').trim());
}

/** The pids cgroup of a process: the v1 pids hierarchy's, else the unified one's (cgroup v2 only). */
export function pidsCgroup(pid: number): { path: string; dir: string } {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  const v1 = /^\d+:pids:(.*)$/m.exec(lines)?.[1];
  if (v1 !== undefined) return { path: v1, dir: `/sys/fs/cgroup/pids${v1}` };
  const v2 = /^0::(.*)$/m.exec(lines)?.[1] ?? '';
  return { path: v2, dir: `/sys/fs/cgroup${v2}` };
}

/** Removes the (empty) cgroup directories named `name` at the top of each hierarchy and under this process's own. */
export function removeCgroupParent(name: string): void {
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n').filter(Boolean)) {
    const [, controllers, path] = line.split(':') as [string, string, string];
    // Hybrid hosts mount the unified hierarchy at /sys/fs/cgroup/unified, cgroup v2 hosts at /sys/fs/cgroup.
    const unified = existsSync('/sys/fs/cgroup/unified') ? '/sys/fs/cgroup/unified' : '/sys/fs/cgroup';
    const mount = controllers === '' ? unified : `/sys/fs/cgroup/${controllers.replace(/^name=/, '')}`;
    for (const parent of new Set([`${mount}/${name}`, `${mount}${path}/${name}`])) {
      if (!existsSync(parent)) continue;
      for (const child of readdirSync(parent, { withFileTypes: true }).filter((e) => e.isDirectory())) rmdirSync(join(parent, child.name));
      rmdirSync(parent);
    }
  }
}

/**
 * Writes an OCI image archive (an image layout, tarred) of the project's busybox rootfs: one
 * uncompressed layer, the config's Cmd and PATH. Named `name` for `ctr images import`
 * (io.containerd.image.name) and for the layout's own index (org.opencontainers.image.ref.name),
 * so containerd and buildah take it without a registry.
 */
export function ociArchive(archive: string, name: string, cmd: readonly string[]): void {
  const layout = mkdtempSync(join(dirname(archive), 'oci-layout-'));
  try {
    const blobs = join(layout, 'blobs', 'sha256');
    mkdirSync(blobs, { recursive: true });
    const blob = (content: Buffer): { digest: string; size: number } => {
      const hex = createHash('sha256').update(content).digest('hex');
      writeFileSync(join(blobs, hex), content);
      return { digest: `sha256:${hex}`, size: content.length };
    };
    // Numeric owners: the image's files belong to the container's root, whatever names the host has.
    const layerTar = join(layout, 'layer.tar');
    const tarred = spawnSync('tar', ['--numeric-owner', '-C', exampleRootfs, '-cf', layerTar, '.'], { encoding: 'utf8' });
    if (tarred.status !== 0) throw new Error(`tar of ${exampleRootfs}: ${tarred.stderr}`);
    const layer = blob(readFileSync(layerTar));
    rmSync(layerTar);
    const json = (value: unknown) => Buffer.from(JSON.stringify(value));
    const config = blob(
      json({
        architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
        os: 'linux',
        config: { Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: cmd },
        rootfs: { type: 'layers', diff_ids: [layer.digest] },
      }),
    );
    const manifest = blob(
      json({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      }),
    );
    const tag = name.slice(name.lastIndexOf(':') + 1);
    writeFileSync(
      join(layout, 'index.json'),
      json({
        schemaVersion: 2,
        manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': tag } }],
      }),
    );
    writeFileSync(join(layout, 'oci-layout'), json({ imageLayoutVersion: '1.0.0' }));
    const packed = spawnSync('tar', ['-C', layout, '-cf', archive, 'oci-layout', 'index.json', 'blobs'], { encoding: 'utf8' });
    if (packed.status !== 0) throw new Error(`tar of the image layout: ${packed.stderr}`);
  } finally {
    rmSync(layout, { recursive: true, force: true });
  }
}
