import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ContainerRecord } from '../../../../src/runtime/container/container-record.js';
import type { GlobalOptions } from '../../../../src/runtime/options.js';
import { pause, resume } from '../../../../src/runtime/commands/pause.js';
import { StateStore } from '../../../../src/runtime/container/state-store.js';
import { liveStatus } from '../../../../src/runtime/container/status.js';
import { deadPid, inCgroup, recordFor, sleeper, temporaryDir } from '../fixtures.js';

/** A container whose cgroup is a plain directory that answers "frozen <n>" in cgroup.events. */
function setup(record: (id: string, cgroupPath: string) => ContainerRecord, frozen: 0 | 1): { g: GlobalOptions; store: StateStore; cgroup: string } {
  const g: GlobalOptions = { root: join(temporaryDir(), 'root'), debug: false, systemdCgroup: false };
  const cgroup = join(temporaryDir(), 'c1');
  mkdirSync(cgroup);
  writeFileSync(join(cgroup, 'cgroup.freeze'), String(frozen));
  writeFileSync(join(cgroup, 'cgroup.events'), `populated 1\nfrozen ${frozen}\n`);
  const store = new StateStore(g.root);
  store.reserve('c1');
  store.write(record('c1', cgroup));
  return { g, store, cgroup };
}

describe('pause and resume', () => {
  it('pause writes 1 to cgroup.freeze, and the status reads paused', async () => {
    const init = sleeper();
    const { g, store, cgroup } = setup((id, cgroupPath) => recordFor(id, init.pid, inCgroup(cgroupPath)), 0);
    // The kernel would flip cgroup.events once every task stopped; here it says so at once.
    writeFileSync(join(cgroup, 'cgroup.events'), 'populated 1\nfrozen 1\n');
    await pause(g, 'c1');
    expect(readFileSync(join(cgroup, 'cgroup.freeze'), 'utf8')).toBe('1');
    expect(liveStatus(store, store.read('c1'))).toBe('paused');
  });

  it('resume writes 0 to cgroup.freeze, and the status reads running again', async () => {
    const init = sleeper();
    const { g, store, cgroup } = setup((id, cgroupPath) => recordFor(id, init.pid, inCgroup(cgroupPath)), 1);
    writeFileSync(join(cgroup, 'cgroup.events'), 'populated 1\nfrozen 0\n');
    await resume(g, 'c1');
    expect(readFileSync(join(cgroup, 'cgroup.freeze'), 'utf8')).toBe('0');
    expect(liveStatus(store, store.read('c1'))).toBe('running');
  });

  it('refuses to pause a stopped or paused container, and to resume one that is not paused (runc\'s messages)', async () => {
    const stopped = setup((id, cgroupPath) => recordFor(id, deadPid(), { pidStartTime: 1, ...inCgroup(cgroupPath) }), 0);
    await expect(pause(stopped.g, 'c1')).rejects.toThrow(/^container not running$/);
    const init = sleeper();
    const paused = setup((id, cgroupPath) => recordFor(id, init.pid, inCgroup(cgroupPath)), 1);
    await expect(pause(paused.g, 'c1')).rejects.toThrow(/^container not running$/);
    const running = setup((id, cgroupPath) => recordFor(id, init.pid, inCgroup(cgroupPath)), 0);
    await expect(resume(running.g, 'c1')).rejects.toThrow(/^container not paused$/);
  });

  it('refuses a container without a cgroup', async () => {
    const init = sleeper();
    const { g } = setup((id) => recordFor(id, init.pid), 0);
    await expect(pause(g, 'c1')).rejects.toThrow(
      'container c1 has no cgroup (it was created by a user without a delegated cgroup), so it cannot be paused',
    );
  });
});
