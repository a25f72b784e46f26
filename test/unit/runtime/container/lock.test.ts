import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Container } from '../../../../src/runtime/container/container.js';
import { lockContainer } from '../../../../src/runtime/container/lock.js';
import { ContainerNotFoundError, StateStore } from '../../../../src/runtime/container/state-store.js';
import { recordFor, temporaryDir } from '../fixtures.js';

/** Whether another process could take the lock right now (util-linux flock, non-blocking). */
function lockableFromOutside(dir: string): boolean {
  const result = spawnSync('flock', ['--nonblock', '--exclusive', dir, 'true']);
  return result.status === 0;
}

function storeWith(id: string): StateStore {
  const store = new StateStore(join(temporaryDir(), 'root'));
  store.reserve(id);
  store.write(recordFor(id, 0));
  return store;
}

describe('container lock', () => {
  it('excludes other processes until released', () => {
    const store = storeWith('c1');
    const lock = lockContainer(store, 'c1');
    expect(lockableFromOutside(store.dir('c1'))).toBe(false);
    lock.release();
    expect(lockableFromOutside(store.dir('c1'))).toBe(true);
    expect(() => lock.release()).not.toThrow();
  });

  it('tells whether the locked directory is still the one at its path (a delete may remove it, a create remake it)', () => {
    const store = storeWith('c1');
    const lock = lockContainer(store, 'c1');
    expect(lock.stillAtPath()).toBe(true);
    store.remove('c1');
    expect(lock.stillAtPath()).toBe(false);
    store.reserve('c1');
    expect(lock.stillAtPath()).toBe(false);
    lock.release();
  });

  it('Container.locked holds the lock during fn and releases it when fn throws', async () => {
    const store = storeWith('c1');
    let heldInside = false;
    await expect(
      Container.locked(store.root, 'c1', async () => {
        heldInside = !lockableFromOutside(store.dir('c1'));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(heldInside).toBe(true);
    expect(lockableFromOutside(store.dir('c1'))).toBe(true);
  });

  it('Container.locked returns what fn returns', async () => {
    const store = storeWith('c1');
    await expect(Container.locked(store.root, 'c1', () => 7)).resolves.toBe(7);
  });

  it('reports a container that does not exist', () => {
    const store = storeWith('c1');
    expect(() => lockContainer(store, 'nosuch')).toThrow(ContainerNotFoundError);
  });
});
