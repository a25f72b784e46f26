import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Spec } from '../../../../src/config/types.js';
import { ContainerExistsError, ContainerNotFoundError, StateStore } from '../../../../src/runtime/container/state-store.js';
import { inCgroup, recordFor, temporaryDir } from '../fixtures.js';

function newStore(): StateStore {
  return new StateStore(join(temporaryDir(), 'nested', 'root'));
}

describe('StateStore', () => {
  it('reserve creates the root (0700) and the container directory (0711)', () => {
    const store = newStore();
    const previous = process.umask(0o077);
    try {
      expect(store.reserve('c1')).toBe(join(store.root, 'c1'));
    } finally {
      process.umask(previous);
    }
    expect(statSync(store.root).mode & 0o777).toBe(0o700);
    expect(statSync(join(store.root, 'c1')).mode & 0o777).toBe(0o711);
  });

  it('reserve refuses a taken id', () => {
    const store = newStore();
    store.reserve('c1');
    expect(() => store.reserve('c1')).toThrow(ContainerExistsError);
    expect(() => store.reserve('c1')).toThrow('container c1 already exists');
  });

  it('refuses invalid ids before touching the disk', () => {
    const store = newStore();
    expect(() => store.reserve('../escape')).toThrow('invalid container ID format');
    expect(() => store.read('..')).toThrow('invalid container ID format');
    expect(() => store.remove('a/b')).toThrow('invalid container ID format');
  });

  it('writes a record that reads back equal, leaving no temporary file', () => {
    const store = newStore();
    store.reserve('c1');
    const record = recordFor('c1', 0, { pid: 1234, pidStartTime: 99, annotations: { k: 'v' }, ...inCgroup('/sys/fs/cgroup/x') });
    store.write(record);
    expect(store.read('c1')).toEqual(record);
    store.write({ ...record, started: true });
    expect(store.read('c1').started).toBe(true);
    expect(readdirSync(store.dir('c1'))).toEqual(['state.json']);
    expect(statSync(join(store.dir('c1'), 'state.json')).mode & 0o777).toBe(0o600);
  });

  it('reports a missing container, and a directory without state.json, as not existing', () => {
    const store = newStore();
    expect(() => store.read('nosuch')).toThrow(ContainerNotFoundError);
    expect(() => store.read('nosuch')).toThrow('container nosuch does not exist');
    store.reserve('half');
    expect(() => store.read('half')).toThrow(ContainerNotFoundError);
  });

  it('names the file when state.json is not JSON', () => {
    const store = newStore();
    store.reserve('c1');
    const file = join(store.dir('c1'), 'state.json');
    writeFileSync(file, '{"id": "c1", ');
    expect(() => store.read('c1')).toThrow(`${file} is corrupt`);
  });

  it('names the field when state.json lacks one', () => {
    const store = newStore();
    store.reserve('c1');
    const { pid: _pid, ...withoutPid } = recordFor('c1', 0, { pid: 1 });
    writeFileSync(join(store.dir('c1'), 'state.json'), JSON.stringify(withoutPid));
    expect(() => store.read('c1')).toThrow('"pid" should be a number');
  });

  it('keeps the config snapshot beside the record', () => {
    const store = newStore();
    store.reserve('c1');
    expect(store.readConfig('c1')).toBeUndefined();
    const spec: Spec = { ociVersion: '1.3.0', hooks: { poststop: [{ path: '/bin/true' }] } };
    store.writeConfig('c1', spec);
    expect(store.readConfig('c1')).toEqual(spec);
  });

  it('lists container directories in name order, ignoring files', () => {
    const store = newStore();
    expect(store.ids()).toEqual([]);
    for (const id of ['b', 'a', 'c']) store.reserve(id);
    writeFileSync(join(store.root, 'stray-file'), '');
    expect(store.ids()).toEqual(['a', 'b', 'c']);
  });

  it('removes a container directory with everything in it', () => {
    const store = newStore();
    store.reserve('c1');
    store.write(recordFor('c1', 0));
    writeFileSync(store.fifoPath('c1'), '');
    store.remove('c1');
    expect(store.ids()).toEqual([]);
    expect(() => store.remove('c1')).not.toThrow();
  });

  it('puts exec.fifo in the container directory', () => {
    expect(new StateStore('/run/tsrun').fifoPath('c1')).toBe('/run/tsrun/c1/exec.fifo');
  });
});
