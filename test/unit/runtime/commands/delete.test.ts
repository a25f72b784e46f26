import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configureLogging } from '../../../../src/runtime/log.js';
import type { Hook } from '../../../../src/config/types.js';
import type { ContainerRecord } from '../../../../src/runtime/container/container-record.js';
import { deleteContainer } from '../../../../src/runtime/commands/delete.js';
import type { GlobalOptions } from '../../../../src/runtime/options.js';
import { StateStore } from '../../../../src/runtime/container/state-store.js';
import { processStartTime } from '../../../../src/runtime/container/status.js';
import { deadPid, inCgroup, recordFor, sleeper, temporaryDir } from '../fixtures.js';

function setup(record?: (id: string) => ContainerRecord, hooks?: Hook[]): { g: GlobalOptions; store: StateStore } {
  const g: GlobalOptions = { root: join(temporaryDir(), 'root'), debug: false, systemdCgroup: false };
  const store = new StateStore(g.root);
  store.reserve('c1');
  if (record !== undefined) store.write(record('c1'));
  if (hooks !== undefined) store.writeConfig('c1', { ociVersion: '1.3.0', hooks: { poststop: hooks } });
  return { g, store };
}

const stopped = (id: string) => recordFor(id, deadPid(), { pidStartTime: 1 });

/** Captures warnings as JSON lines in a file. */
function captureLog(): () => Array<{ level: string; msg: string }> {
  const file = join(temporaryDir(), 'log.json');
  configureLogging({ file, format: 'json', debug: false });
  return () =>
    existsSync(file)
      ? readFileSync(file, 'utf8')
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as { level: string; msg: string })
      : [];
}

afterEach(() => configureLogging({ format: 'text', debug: false }));

describe('deleteContainer', () => {
  it('deletes a stopped container', async () => {
    const { g, store } = setup(stopped);
    await deleteContainer(g, 'c1', false);
    expect(store.ids()).toEqual([]);
  });

  it('refuses a created container without force (runtime-spec; runc deletes it anyway)', async () => {
    const init = sleeper();
    const { g, store } = setup((id) => recordFor(id, init.pid));
    writeFileSync(store.fifoPath('c1'), '');
    await expect(deleteContainer(g, 'c1', false)).rejects.toThrow(/^cannot delete container c1 that is not stopped: created$/);
    expect(store.ids()).toEqual(['c1']);
    expect(init.exitCode).toBeNull();
  });

  it('kills and deletes a created container with force', async () => {
    const init = sleeper();
    const { g, store } = setup((id) => recordFor(id, init.pid));
    writeFileSync(store.fifoPath('c1'), '');
    const exited = once(init, 'exit');
    await deleteContainer(g, 'c1', true);
    expect(await exited).toEqual([null, 'SIGKILL']);
    expect(store.ids()).toEqual([]);
  });

  it('refuses a running container without force, with runc’s message', async () => {
    const init = sleeper();
    const { g, store } = setup((id) => recordFor(id, init.pid));
    await expect(deleteContainer(g, 'c1', false)).rejects.toThrow(
      /^cannot delete container c1 that is not stopped: running$/,
    );
    expect(store.ids()).toEqual(['c1']);
    expect(init.exitCode).toBeNull();
  });

  it('refuses a paused container without force', async () => {
    const cgroupPath = join(temporaryDir(), 'cgroup');
    mkdirSync(cgroupPath);
    writeFileSync(join(cgroupPath, 'cgroup.freeze'), '1');
    const { g } = setup((id) => recordFor(id, sleeper().pid, inCgroup(cgroupPath)));
    await expect(deleteContainer(g, 'c1', false)).rejects.toThrow('not stopped: paused');
  });

  it('with force, SIGKILLs a running container, waits for it, and deletes it', async () => {
    const init = sleeper();
    const { g, store } = setup((id) => recordFor(id, init.pid));
    const exited = once(init, 'exit');
    await deleteContainer(g, 'c1', true);
    expect(await exited).toEqual([null, 'SIGKILL']);
    expect(store.ids()).toEqual([]);
  });

  it('reports an unknown container, unless forced', async () => {
    const { g } = setup(stopped);
    await expect(deleteContainer(g, 'nosuch', false)).rejects.toThrow('container nosuch does not exist');
    await expect(deleteContainer(g, 'nosuch', true)).resolves.toBeUndefined();
  });

  it('removes what an aborted create left (a directory without state.json), erring unless forced', async () => {
    const { g, store } = setup();
    await expect(deleteContainer(g, 'c1', false)).rejects.toThrow('container c1 does not exist');
    expect(store.ids()).toEqual([]);
    store.reserve('c1');
    await expect(deleteContainer(g, 'c1', true)).resolves.toBeUndefined();
    expect(store.ids()).toEqual([]);
  });

  it('removes the cgroups a create recorded before it died without state.json', async () => {
    const { g, store } = setup();
    const cgroupPath = join(temporaryDir(), 'cgroup');
    mkdirSync(cgroupPath);
    store.writeCgroupOfCreate('c1', { version: 2, dirs: { '': cgroupPath }, createdParents: [] });
    captureLog();
    await expect(deleteContainer(g, 'c1', true)).resolves.toBeUndefined();
    // A plain directory stands in for the cgroup: the driver's kill reached it (test/reliability/crash.test.ts shows the kernel's side).
    expect(readFileSync(join(cgroupPath, 'cgroup.kill'), 'utf8')).toBe('1');
    expect(store.ids()).toEqual([]);
  });

  it('a state.json that does not parse: refused without force, and with it cleaned up from what create recorded', async () => {
    const init = sleeper();
    const { g, store } = setup();
    store.writeInitOfCreate('c1', { pid: init.pid, pidStartTime: processStartTime(init.pid) });
    const stateFile = join(store.dir('c1'), 'state.json');
    // What a power loss can leave of a write that was never fsynced.
    writeFileSync(stateFile, '{"ociVersion": "1.3');
    const warnings = captureLog();
    await expect(deleteContainer(g, 'c1', false)).rejects.toThrow(`${stateFile} is corrupt: `);
    expect(store.ids()).toEqual(['c1']);
    expect(init.exitCode).toBeNull();
    const exited = once(init, 'exit');
    await deleteContainer(g, 'c1', true);
    expect(await exited).toEqual([null, 'SIGKILL']);
    expect(store.ids()).toEqual([]);
    expect(warnings().map((w) => w.msg)).toContain(`removed container c1, whose ${stateFile} was corrupt`);
  });

  it('runs every poststop hook with the stopped state; a failure is a warning', async () => {
    const dir = temporaryDir();
    const hook = (name: string, body: string): Hook => {
      const path = join(dir, name);
      writeFileSync(path, `#!/bin/sh\n${body}\n`);
      chmodSync(path, 0o755);
      return { path };
    };
    const { g, store } = setup(stopped, [
      hook('first', `cat > ${dir}/stdin; echo cleanup failed >&2; exit 4`),
      hook('second', `touch ${dir}/second-ran`),
    ]);
    const logged = captureLog();
    await deleteContainer(g, 'c1', false);
    expect(JSON.parse(readFileSync(join(dir, 'stdin'), 'utf8'))).toEqual({
      ociVersion: '1.3.0',
      id: 'c1',
      status: 'stopped',
      bundle: '/bundles/c1',
    });
    expect(existsSync(join(dir, 'second-ran'))).toBe(true);
    expect(logged()).toEqual([
      { level: 'warning', msg: `poststop hook #0 (${dir}/first) exited with status 4; stderr: cleanup failed`, time: expect.any(String) },
    ]);
    expect(store.ids()).toEqual([]);
  });
});
