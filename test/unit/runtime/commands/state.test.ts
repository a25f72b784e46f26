import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GlobalOptions } from '../../../../src/runtime/options.js';
import { list, state } from '../../../../src/runtime/commands/state.js';
import { StateStore } from '../../../../src/runtime/container/state-store.js';
import { deadPid, recordFor, sleeper, temporaryDir } from '../fixtures.js';

function root(): { g: GlobalOptions; store: StateStore } {
  const g: GlobalOptions = { root: join(temporaryDir(), 'root'), debug: false, systemdCgroup: false };
  return { g, store: new StateStore(g.root) };
}

describe('state', () => {
  it('prints runc’s fields with the live status and pid', () => {
    const { g, store } = root();
    const init = sleeper();
    store.reserve('c1');
    store.write(recordFor('c1', init.pid, { annotations: { team: 'a' } }));
    expect(state(g, 'c1')).toEqual({
      ociVersion: '1.3.0',
      id: 'c1',
      pid: init.pid,
      status: 'running',
      bundle: '/bundles/c1',
      rootfs: '/bundles/c1/rootfs',
      created: '2026-01-02T03:04:05.678Z',
      annotations: { team: 'a' },
      owner: 'root',
    });
  });

  it('shows pid 0 for a stopped container, like runc', () => {
    const { g, store } = root();
    store.reserve('c1');
    store.write(recordFor('c1', deadPid(), { pidStartTime: 1 }));
    expect(state(g, 'c1')).toMatchObject({ pid: 0, status: 'stopped' });
  });

  it('shows #uid for an owner without a user name', () => {
    const { g, store } = root();
    store.reserve('c1');
    store.write(recordFor('c1', 0, { owner: 4_000_000 }));
    expect(state(g, 'c1').owner).toBe('#4000000');
  });

  it('reports an unknown container', () => {
    const { g } = root();
    expect(() => state(g, 'nosuch')).toThrow('container nosuch does not exist');
  });
});

describe('list', () => {
  it('lists every container, skipping directories of unfinished creates', () => {
    const { g, store } = root();
    const init = sleeper();
    store.reserve('b');
    store.write(recordFor('b', init.pid));
    store.reserve('a');
    store.write(recordFor('a', deadPid(), { pidStartTime: 1 }));
    store.reserve('creating');
    writeFileSync(store.fifoPath('b'), '');
    expect(list(g).map((c) => [c.id, c.status, c.pid])).toEqual([
      ['a', 'stopped', 0],
      ['b', 'created', init.pid],
    ]);
  });

  it('is empty when the root does not exist', () => {
    const { g } = root();
    expect(list(g)).toEqual([]);
  });

  it('skips a corrupt container and lists the rest', () => {
    const { g, store } = root();
    store.reserve('bad');
    writeFileSync(join(store.dir('bad'), 'state.json'), 'not json');
    store.reserve('good');
    store.write(recordFor('good', 0));
    mkdirSync(join(g.root, 'good', 'extra'));
    expect(list(g).map((c) => c.id)).toEqual(['good']);
  });
});
