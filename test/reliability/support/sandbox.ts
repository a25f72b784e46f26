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
  config(): ConfigObject;
  cleanup(): void;
}

/**
 * A copy of the example rootfs with traps in it: a symlink loop
 * (loop-a <-> loop-b), a link that climbs out (escape-link -> ../../../..),
 * and one to itself's directory (self-link -> .). Beside it, a rootfs path
 * that is itself a loop (loop-root-a <-> loop-root-b).
 */
export function workspace(parent: string, name: string): Workspace {
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
  return {
    dir,
    root,
    rootfs,
    scratch,
    config() {
      const config = baseConfig();
      config.root.path = rootfs;
      return config;
    },
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
  return bundle;
}

export function scratchParent(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}
