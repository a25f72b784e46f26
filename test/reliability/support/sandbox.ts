import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { baseConfig, exampleRootfs, tsrunBin, type ConfigObject } from '../../integration/support/harness.js';
import { existsSync, readdirSync } from 'node:fs';

/** One worker's own --root, rootfs and scratch space: workers never see each other's mounts or state. */
export interface Workspace {
  readonly dir: string;
  readonly root: string;
  readonly rootfs: string;
  readonly scratch: string;
  /** The unprivileged user everything here belongs to, and tsrun runs as; undefined: root. */
  readonly uid?: number;
  /** The example config on this rootfs; for `uid`, rootless: a user namespace mapped onto it, no cgroup limits. */
  config(): ConfigObject;
  /** Makes what root wrote here `uid`'s (nothing for root). */
  own(path: string): void;
  cleanup(): void;
}

/**
 * A copy of the example rootfs with traps in it: a symlink loop
 * (loop-a <-> loop-b), a link that climbs out (escape-link -> ../../../..),
 * and one to itself's directory (self-link -> .). Beside it, a rootfs path
 * that is itself a loop (loop-root-a <-> loop-root-b).
 */
export function workspace(parent: string, name: string, uid?: number): Workspace {
  const dir = join(parent, name);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const rootfs = join(dir, 'rootfs');
  cpSync(exampleRootfs, rootfs, { recursive: true, verbatimSymlinks: true });
  symlinkSync('loop-b', join(rootfs, 'loop-a'));
  symlinkSync('loop-a', join(rootfs, 'loop-b'));
  symlinkSync('../../../../../../..', join(rootfs, 'escape-link'));
  symlinkSync('.', join(rootfs, 'self-link'));
  symlinkSync('loop-root-b', join(dir, 'loop-root-a'));
  symlinkSync('loop-root-a', join(dir, 'loop-root-b'));
  const root = join(dir, 'state');
  const scratch = join(dir, 'scratch');
  mkdirSync(scratch);
  const own = (path: string) => {
    if (uid !== undefined) spawnSync('chown', ['-R', '-h', `${uid}:${uid}`, path]);
  };
  own(dir);
  return {
    dir,
    root,
    rootfs,
    scratch,
    ...(uid === undefined ? {} : { uid }),
    config() {
      const config = baseConfig();
      config.root.path = rootfs;
      if (uid !== undefined) {
        // As `spec --rootless` makes it; a rootless container on a cgroup v1 host has no cgroup.
        config.linux.namespaces.push({ type: 'user' });
        config.linux.uidMappings = [{ containerID: 0, hostID: uid, size: 1 }];
        config.linux.gidMappings = [{ containerID: 0, hostID: uid, size: 1 }];
        delete config.linux.resources;
      }
      return config;
    },
    own,
    cleanup() {
      for (const id of existsSync(root) ? readdirSync(root) : []) spawnSync(tsrunBin, ['--root', root, 'delete', '--force', id]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A bundle in `w` whose container sleeps: what the race and crash tests create again and again. */
export function sleepingBundle(w: Workspace): string {
  const bundle = join(w.dir, 'bundle');
  mkdirSync(bundle);
  const config = w.config();
  config.process.args = ['sleep', '1000'];
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
  w.own(bundle);
  return bundle;
}

export function scratchParent(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}
