import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exampleRootfs } from './harness.js';

// What the podman tests share: a store of their own, and the busybox image in it.

export interface PodmanStore {
  readonly dir: string;
  /** podman's environment: CONTAINERS_CONF is the store's own. */
  readonly env: NodeJS.ProcessEnv;
  /** podman's flags for this store (vfs: no mounts to leave behind). */
  readonly flags: readonly string[];
}

/**
 * A fresh store in a temp directory, with podman's default configuration but
 * for the one setting this machine kind needs (root here may not raise
 * podman's default rlimits: no CAP_SYS_RESOURCE), and `image` imported from
 * the project's busybox rootfs (no registry).
 */
export function podmanStore(prefix: string, image: string): PodmanStore {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, 'containers.conf'), '[containers]\ndefault_ulimits = []\n');
  const env = { ...process.env, CONTAINERS_CONF: join(dir, 'containers.conf') };
  const flags = ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--storage-driver', 'vfs'];
  const tar = spawnSync('sh', ['-c', `tar -C ${exampleRootfs} -c . | podman ${flags.join(' ')} import - ${image}`], { encoding: 'utf8', env });
  if (tar.status !== 0) throw new Error(`podman import: ${tar.stderr}`);
  return { dir, env, flags };
}
