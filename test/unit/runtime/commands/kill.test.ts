import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GlobalOptions } from '../../../../src/runtime/options.js';
import { treePids as cgroupPids } from '../../../../src/linux/cgroups/cgroup-tree.js';
import { kill } from '../../../../src/runtime/commands/kill.js';
import { StateStore } from '../../../../src/runtime/container/state-store.js';
import type { ContainerRecord } from '../../../../src/runtime/container/container-record.js';
import { deadPid, inCgroup, recordFor, sleeper, temporaryDir } from '../fixtures.js';

function setup(record: (id: string) => ContainerRecord): { g: GlobalOptions; store: StateStore } {
  const g: GlobalOptions = { root: join(temporaryDir(), 'root'), debug: false, systemdCgroup: false };
  const store = new StateStore(g.root);
  store.reserve('c1');
  store.write(record('c1'));
  return { g, store };
}

/** A directory laid out like a cgroup2 subtree, each level listing some pids. */
function fakeCgroup(levels: Record<string, number[]>): string {
  const root = join(temporaryDir(), 'cgroup');
  for (const [relative, pids] of Object.entries(levels)) {
    mkdirSync(join(root, relative), { recursive: true });
    writeFileSync(join(root, relative, 'cgroup.procs'), pids.map((pid) => `${pid}\n`).join(''));
  }
  return root;
}

describe('kill', () => {
  it('sends the signal to the init process', async () => {
    const init = sleeper();
    const { g } = setup((id) => recordFor(id, init.pid));
    const exited = once(init, 'exit');
    await kill(g, 'c1', 10, false);
    expect(await exited).toEqual([null, 'SIGUSR1']);
  });

  it('refuses a stopped container with runc’s message', async () => {
    const { g } = setup((id) => recordFor(id, deadPid(), { pidStartTime: 1 }));
    await expect(kill(g, 'c1', 15, false)).rejects.toThrow(/^container not running$/);
  });

  it('does not signal a process that merely reuses the pid', async () => {
    const stranger = sleeper();
    const { g } = setup((id) => recordFor(id, stranger.pid, { pidStartTime: 1 }));
    await expect(kill(g, 'c1', 9, false)).rejects.toThrow('container not running');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stranger.exitCode).toBeNull();
    expect(stranger.signalCode).toBeNull();
  });

  it('with all, signals every process in the cgroup tree', async () => {
    const [a, b, c] = [sleeper(), sleeper(), sleeper()];
    const cgroupPath = fakeCgroup({ '.': [a.pid], sub: [b.pid], 'sub/deeper': [c.pid] });
    const { g } = setup((id) => recordFor(id, a.pid, inCgroup(cgroupPath)));
    const exits = [a, b, c].map((child) => once(child, 'exit'));
    await kill(g, 'c1', 15, true);
    expect(await Promise.all(exits)).toEqual([
      [null, 'SIGTERM'],
      [null, 'SIGTERM'],
      [null, 'SIGTERM'],
    ]);
  });

  it('with all, accepts a stopped container (like runc) and still reaches leftovers', async () => {
    const leftover = sleeper();
    const cgroupPath = fakeCgroup({ '.': [leftover.pid] });
    const { g } = setup((id) => recordFor(id, deadPid(), { pidStartTime: 1, ...inCgroup(cgroupPath) }));
    const exited = once(leftover, 'exit');
    await kill(g, 'c1', 9, true);
    expect(await exited).toEqual([null, 'SIGKILL']);
  });

  it('with all, is a no-op for a stopped container whose cgroup is gone', async () => {
    const { g } = setup((id) => recordFor(id, deadPid(), { pidStartTime: 1, ...inCgroup('/nonexistent/cgroup') }));
    await expect(kill(g, 'c1', 9, true)).resolves.toBeUndefined();
  });

  it('reports an unknown container', async () => {
    const { g } = setup((id) => recordFor(id, 0));
    await expect(kill(g, 'nosuch', 15, false)).rejects.toThrow('container nosuch does not exist');
  });
});

describe('cgroupPids', () => {
  it('collects pids of the whole subtree', () => {
    const cgroupPath = fakeCgroup({ '.': [10, 11], a: [12], 'a/b': [13], c: [] });
    expect(cgroupPids(cgroupPath).sort()).toEqual([10, 11, 12, 13]);
  });

  it('finds nothing in a cgroup that is gone', () => {
    expect(cgroupPids('/nonexistent/cgroup')).toEqual([]);
  });
});
