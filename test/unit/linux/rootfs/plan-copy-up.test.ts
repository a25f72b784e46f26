import { describe, expect, it } from 'vitest';
import type { Mount } from '../../../../src/config/types.js';
import { checkpointsOf, INIT_CHECKPOINTS } from '../../../../src/linux/checkpoints.js';
import { planMounts } from '../../../../src/linux/rootfs/plan-mounts.js';
import { baseSpec, ROOTFS_FDS, rootfsHarness } from '../fixtures.js';
import { mustFind, render, replayFds } from '../steps.js';

const IN_ROOT = 'RESOLVE_NO_MAGICLINKS|RESOLVE_IN_ROOT';
const openPath = (path: string) => `syscall(SYS_openat2, 3, "${path}", how{O_RDONLY|O_CLOEXEC|O_PATH, 0o0, ${IN_ROOT}}, 24) ?report`;
const openDir = (path: string) => `syscall(SYS_openat2, 3, "${path}", how{O_RDONLY|O_DIRECTORY|O_CLOEXEC|O_PATH, 0o0, ${IN_ROOT}}, 24) ?report`;

function plan(mounts: Mount[]) {
  const h = rootfsHarness(baseSpec({ mounts }));
  const copyUps = planMounts(h.ctx);
  return { copyUps, steps: h.w.steps, lines: render(h.w.steps), checkpoints: h.w.checkpoints };
}

const tmpfs = (destination: string, options: string[]): Mount => ({ destination, type: 'tmpfs', source: 'tmpfs', options });

describe('planMounts with tmpcopyup', () => {
  it('mounts the tmpfs onto the destination fd it keeps, opens the new tmpfs, and waits at "copy-up" holding both', () => {
    const { lines, copyUps, steps } = plan([tmpfs('/run', ['nosuid', 'nodev', 'tmpcopyup', 'mode=755'])]);
    expect(lines).toEqual([
      'mkdirat(3, "run", 0o755) ?report tolerate=EEXIST',
      openPath('run'),
      'mount("tmpfs", "/proc/self/fd/4", "tmpfs", MS_NOSUID|MS_NODEV, "mode=755") ?report',
      openDir('run'),
      'checkpoint copy-up',
      'close(5) ?report',
      'close(4) ?report',
    ]);
    // fd 4 is the directory under the tmpfs (opened before the mount), fd 5 the tmpfs's root.
    expect(copyUps).toEqual([{ field: 'mounts[0]', destination: '/run', covered: 4, tmpfs: 5, createdBy: 0 }]);
    expect(steps[0]).toMatchObject({ kind: 'call', fn: 'mkdirat', tolerate: ['EEXIST'] });
  });

  it("names the mkdirat of the destination's last component, whose EEXIST says the image has it", () => {
    const { lines, copyUps } = plan([tmpfs('/var/tmp', ['tmpcopyup'])]);
    const step = copyUps[0]?.createdBy ?? -1;
    expect(lines[step]).toBe('mkdirat(4, "tmp", 0o755) ?report tolerate=EEXIST');
    expect(lines.indexOf('checkpoint copy-up')).toBeGreaterThan(step);
  });

  it('mounts a read-only tmpfs writable for the copy and makes this mount read-only after the checkpoint', () => {
    const { lines } = plan([tmpfs('/data', ['ro', 'nosuid', 'tmpcopyup'])]);
    const mount = mustFind(lines, 'mount("tmpfs", "/proc/self/fd/4", "tmpfs", MS_NOSUID, null) ?report');
    const checkpoint = mustFind(lines, 'checkpoint copy-up', mount);
    const reopen = mustFind(lines, openPath('data'), checkpoint);
    expect(lines[reopen + 1]).toBe('mount(null, "/proc/self/fd/4", null, MS_RDONLY|MS_NOSUID|MS_REMOUNT|MS_BIND, null) ?report');
  });

  it('copies each tmpfs before the next mount is made, so a mount under it is never written into', () => {
    const { lines, copyUps, checkpoints } = plan([
      tmpfs('/run', ['tmpcopyup']),
      { destination: '/run/secrets', type: 'tmpfs', source: 'tmpfs', options: ['ro'] },
      tmpfs('/tmp', ['tmpcopyup']),
    ]);
    expect(checkpoints).toEqual(['copy-up', 'copy-up']);
    expect(copyUps.map((c) => c.field)).toEqual(['mounts[0]', 'mounts[2]']);
    const first = mustFind(lines, 'checkpoint copy-up');
    expect(first).toBeLessThan(mustFind(lines, 'mkdirat(4, "secrets", 0o755) ?report tolerate=EEXIST'));
    expect(mustFind(lines, 'checkpoint copy-up', first + 1)).toBeGreaterThan(mustFind(lines, /^mount\("tmpfs", .*MS_RDONLY/));
  });

  it('opens and closes fds as the planned table predicts across the checkpoints', () => {
    const { steps, copyUps } = plan([tmpfs('/a/b', ['tmpcopyup', 'rprivate']), tmpfs('/c', ['tmpcopyup', 'ro'])]);
    expect(replayFds(steps, ROOTFS_FDS).problems).toEqual([]);
    expect(copyUps.map((c) => [c.covered, c.tmpfs])).toEqual([
      [4, 5],
      [4, 5],
    ]);
  });

  it('refuses tmpcopyup on anything but a tmpfs, naming the field', () => {
    expect(() => plan([{ destination: '/x', type: 'bind', source: '/tmp', options: ['rbind', 'tmpcopyup'] }])).toThrow(
      'mounts[0].options: "tmpcopyup" fills a new tmpfs with the directory it covers; it needs "type": "tmpfs", not a bind mount (drop the option)',
    );
    expect(() => plan([{ destination: '/x', type: 'proc', source: 'proc', options: ['tmpcopyup'] }])).toThrow('not "proc"');
  });

  it('gives no copy-up checkpoint to mounts without the option', () => {
    const { copyUps, checkpoints } = plan([tmpfs('/tmp', ['mode=1777'])]);
    expect(copyUps).toEqual([]);
    expect(checkpoints).toEqual([]);
  });
});

describe('checkpointsOf', () => {
  it('lets "copy-up" come once per tmpcopyup mount, back to back, between "isolated" and "mounted"', () => {
    const written = ['spawned', 'isolated', 'copy-up', 'copy-up', 'copy-up', 'mounted', 'ready'] as const;
    expect(checkpointsOf(written, INIT_CHECKPOINTS)).toEqual(written);
  });

  it('still refuses any other checkpoint twice, and one out of order', () => {
    expect(() => checkpointsOf(['spawned', 'isolated', 'isolated'], INIT_CHECKPOINTS)).toThrow('checkpoint "isolated" out of place');
    expect(() => checkpointsOf(['spawned', 'mounted', 'copy-up'], INIT_CHECKPOINTS)).toThrow('checkpoint "copy-up" out of place');
    expect(() => checkpointsOf(['spawned', 'forked'], INIT_CHECKPOINTS)).toThrow('checkpoint "forked" out of place');
  });
});
