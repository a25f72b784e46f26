import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateStore } from '../../../../src/runtime/container/state-store.js';
import { ociState } from '../../../../src/runtime/container/oci-state.js';
import { liveStatus, processStartTime, readProcessStat } from '../../../../src/runtime/container/status.js';
import { deadPid, inCgroup, recordFor, sleeper, temporaryDir, zombie } from '../fixtures.js';

function storeWith(id: string): StateStore {
  const store = new StateStore(join(temporaryDir(), 'root'));
  store.reserve(id);
  return store;
}

describe('readProcessStat', () => {
  it('reads state and start time of a live process', () => {
    const stat = readProcessStat(process.pid);
    expect(stat?.state).toMatch(/^[RS]$/);
    expect(stat?.startTime).toBeGreaterThan(0);
  });

  it('tells processes apart by start time', async () => {
    const first = sleeper();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = sleeper();
    expect(processStartTime(second.pid)).toBeGreaterThan(processStartTime(first.pid));
  });

  it('returns undefined for a pid with no process', () => {
    expect(readProcessStat(deadPid())).toBeUndefined();
  });
});

describe('liveStatus', () => {
  it('is running for a live init without exec.fifo', () => {
    const store = storeWith('c');
    expect(liveStatus(store, recordFor('c', sleeper().pid))).toBe('running');
  });

  it('is created while exec.fifo exists', () => {
    const store = storeWith('c');
    writeFileSync(store.fifoPath('c'), '');
    expect(liveStatus(store, recordFor('c', sleeper().pid))).toBe('created');
  });

  it('is paused when the cgroup is frozen, and running when thawed', () => {
    const store = storeWith('c');
    const cgroupPath = join(temporaryDir(), 'cgroup');
    mkdirSync(cgroupPath);
    const record = recordFor('c', sleeper().pid, inCgroup(cgroupPath));
    writeFileSync(join(cgroupPath, 'cgroup.freeze'), '1\n');
    expect(liveStatus(store, record)).toBe('paused');
    writeFileSync(join(cgroupPath, 'cgroup.freeze'), '0\n');
    expect(liveStatus(store, record)).toBe('running');
  });

  it('ignores a cgroup without a freezer file', () => {
    const store = storeWith('c');
    expect(liveStatus(store, recordFor('c', sleeper().pid, inCgroup(temporaryDir())))).toBe('running');
  });

  it('is stopped when the init has exited', () => {
    const store = storeWith('c');
    expect(liveStatus(store, recordFor('c', deadPid(), { pidStartTime: 1 }))).toBe('stopped');
  });

  it('is stopped for pid 0, even with exec.fifo present', () => {
    const store = storeWith('c');
    writeFileSync(store.fifoPath('c'), '');
    expect(liveStatus(store, recordFor('c', 0))).toBe('stopped');
  });

  it('is stopped when the pid now belongs to another process', () => {
    const store = storeWith('c');
    const pid = sleeper().pid;
    expect(liveStatus(store, recordFor('c', pid, { pidStartTime: processStartTime(pid) - 1 }))).toBe('stopped');
  });

  it('is stopped when the init is a zombie', async () => {
    const store = storeWith('c');
    const pid = await zombie();
    expect(liveStatus(store, recordFor('c', pid))).toBe('stopped');
  });
});

describe('ociState', () => {
  it('has the pid while the container lives', () => {
    const record = recordFor('c', 0, { pid: 42, annotations: { a: 'b' } });
    expect(ociState(record, 'running')).toEqual({
      ociVersion: '1.3.0',
      id: 'c',
      status: 'running',
      pid: 42,
      bundle: '/bundles/c',
      annotations: { a: 'b' },
    });
  });

  it('has no pid (and no annotations key without annotations) once stopped', () => {
    const state = ociState(recordFor('c', 0, { pid: 42 }), 'stopped');
    expect(state).toEqual({ ociVersion: '1.3.0', id: 'c', status: 'stopped', bundle: '/bundles/c' });
    expect(Object.keys(state)).not.toContain('pid');
  });
});
