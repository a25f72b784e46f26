import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleRootfs, sandbox, shell, skipReason, type Sandbox } from './support/harness.js';

const skip = skipReason();

/** Mount points in this (the host's) mount namespace, decoded. */
function mountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
}

function run(command: string, args: string[]): void {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${r.stderr}`);
}

describe.skipIf(skip !== undefined)('mounts made in the host namespace (no mount namespace)', () => {
  let s: Sandbox;
  beforeAll(() => {
    s = sandbox();
  });
  afterAll(() => s.cleanup());

  it('delete detaches only the container mounts, even when the container swapped a directory on a mount path for a symlink', async () => {
    const rootfs = join(s.dir, 'swap-rootfs');
    cpSync(exampleRootfs, rootfs, { recursive: true, verbatimSymlinks: true });
    // A host directory with a tmpfs of its own: the symlink's target.
    const hostTarget = join(s.dir, 'host-target');
    const hostMount = join(hostTarget, 'inner');
    mkdirSync(hostMount, { recursive: true });
    run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tsrun-host-tmpfs', hostMount]);
    try {
      writeFileSync(join(hostMount, 'marker'), 'host');
      const bundle = s.bundle('swapper', (c) => {
        c.root = { path: rootfs, readonly: false };
        c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'mount');
        c.linux.maskedPaths = [];
        c.linux.readonlyPaths = [];
        c.mounts.push({ destination: '/data/inner', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
        // /data/inner is a mount point and cannot be renamed; /data, above it, can.
        shell(c, `mv /data /data.old && ln -s ${hostTarget} /data && touch /swapped; sleep 1000`);
      });
      expect(s.tsrun(['create', '--bundle', bundle, 'swapper']).status).toBe(0);
      const recorded = JSON.parse(readFileSync(join(s.root, 'swapper', 'state.json'), 'utf8')).hostMounts as { id: number; path: string }[];
      expect(recorded).toContainEqual({ id: expect.any(Number), path: `${rootfs}/data/inner` });
      expect(s.tsrun(['start', 'swapper']).status).toBe(0);
      for (let waited = 0; !existsSync(join(rootfs, 'swapped')); waited += 20) {
        if (waited > 10_000) throw new Error('the container did not swap /data for a symlink');
        await sleep(20);
      }
      // The container's tmpfs now lives under /data.old; its recorded path leads to the host's tmpfs.
      expect(mountPoints()).toContain(`${rootfs}/data.old/inner`);
      expect(readFileSync(join(rootfs, 'data', 'inner', 'marker'), 'utf8')).toBe('host');

      const del = s.tsrun(['delete', '--force', 'swapper']);
      expect(del.status, del.stderr).toBe(0);
      expect(del.stderr).not.toMatch(/left mount/);
      // The host's tmpfs is untouched; every mount the container made is gone.
      expect(mountPoints()).toContain(hostMount);
      expect(readFileSync(join(hostMount, 'marker'), 'utf8')).toBe('host');
      expect(mountPoints().filter((m) => m === rootfs || m.startsWith(`${rootfs}/`))).toEqual([]);
    } finally {
      spawnSync('umount', ['-l', hostMount]);
      // Whatever a failed run left under the rootfs, so that the sandbox can be removed.
      for (const m of mountPoints().filter((p) => p === rootfs || p.startsWith(`${rootfs}/`)).reverse()) spawnSync('umount', ['-l', m]);
    }
  });
});
