import { SPEC_VERSION } from '../../config/spec-version.js';
import type { State } from '../../config/types.js';
import { loadSpec } from '../../config/validate.js';
import type { DirectoryLock } from '../../linux/dir-lock.js';
import type { Puppet } from '../../linux/kernel.js';
import { assertValidId } from '../container/container-id.js';
import type { ContainerRecord } from '../container/container-record.js';
import { lockContainer } from '../container/lock.js';
import { ociState } from '../container/oci-state.js';
import { ContainerNotFoundError, StateStore } from '../container/state-store.js';
import { crashPoint } from '../crash-point.js';
import { HookError, runHooksWarning } from '../hooks.js';
import { logger } from '../log.js';
import type { CreateOptions, GlobalOptions } from '../options.js';
import { launch } from '../process/init-conductor.js';
import { writePidFile } from '../process/pid-file.js';
import { sendToConsoleSocket } from '../../linux/process/pty-master.js';

/** `tsrun create`: the container's process exists and waits for `start`. */
export async function create(g: GlobalOptions, o: CreateOptions): Promise<void> {
  const created = await createContainer(g, o, false);
  created.puppet.detach();
}

export interface CreatedContainer {
  readonly record: ContainerRecord;
  readonly puppet: Puppet;
  /** A foreground `run` with process.terminal and no --console-socket: the pty master, for tsrun's own stdio. */
  readonly terminal?: number;
}

/**
 * The lock of a directory this create just made. Between mkdir and flock a
 * `delete --force` of the id may take the empty directory for what a dead
 * create left, and remove it (found by test/reliability/races.test.ts):
 * then the delete won, and this create says so and touches nothing.
 */
function lockReserved(store: StateStore, id: string): DirectoryLock {
  const raced = new Error(`container ${id} was removed by a delete of the same id while this create was starting; nothing was created: run create again`);
  let lock: DirectoryLock;
  try {
    lock = lockContainer(store, id);
  } catch (error) {
    if (error instanceof ContainerNotFoundError) throw raced;
    throw error;
  }
  if (lock.stillAtPath()) return lock;
  lock.release();
  throw raced;
}

/**
 * Validate, reserve the id, launch the container process and record it.
 * Any failure undoes everything done so far, in reverse: the process is
 * killed, its cgroups removed, the state directory deleted.
 */
export async function createContainer(g: GlobalOptions, o: CreateOptions, foreground: boolean): Promise<CreatedContainer> {
  assertValidId(o.id);
  const spec = loadSpec(o.bundle);
  const store = new StateStore(g.root);
  store.reserve(o.id);
  const lock = lockReserved(store, o.id);
  const undo: Array<() => void | Promise<void>> = [];
  const stateFor = (pid: number, status: State['status'] = 'creating'): State =>
    ociState({ ociVersion: SPEC_VERSION, id: o.id, pid, bundle: o.bundle, ...(spec.annotations === undefined ? {} : { annotations: spec.annotations }) }, status);
  try {
    crashPoint('create:reserved');
    store.writeConfig(o.id, spec);
    const launched = await launch(o, {
      spec,
      fifoPath: store.fifoPath(o.id),
      systemdCgroup: g.systemdCgroup,
      stateFor,
      onUndo: (action) => undo.push(action),
      onSpawned: (init) => store.writeInitOfCreate(o.id, init),
      onCgroup: (placement) => store.writeCgroupOfCreate(o.id, placement),
      onHostMounts: (before) => store.writeHostMountsOfCreate(o.id, before),
      foreground,
    });
    const pid = launched.puppet.pid;
    const record: ContainerRecord = {
      ociVersion: SPEC_VERSION,
      id: o.id,
      pid,
      bundle: o.bundle,
      ...(spec.annotations === undefined ? {} : { annotations: spec.annotations }),
      pidStartTime: launched.pidStartTime,
      created: new Date().toISOString(),
      rootfs: launched.rootfs,
      ...(launched.cgroup === undefined ? {} : { cgroup: launched.cgroup }),
      ...(launched.hostMounts.length === 0 ? {} : { hostMounts: launched.hostMounts }),
      owner: process.geteuid?.() ?? 0,
      started: false,
    };
    crashPoint('create:before-state-write');
    store.write(record);
    crashPoint('create:after-state-write');
    if (o.pidFile !== undefined) writePidFile(o.pidFile, pid);
    const terminal = launched.terminal;
    if (terminal !== undefined && o.consoleSocket !== undefined) {
      sendToConsoleSocket(o.consoleSocket, terminal);
      return { record, puppet: launched.puppet };
    }
    return { record, puppet: launched.puppet, ...(terminal === undefined ? {} : { terminal }) };
  } catch (error) {
    for (const action of undo.reverse()) {
      try {
        await action();
      } catch {
        // Best effort: the original error is the one to report.
      }
    }
    if (error instanceof HookError) {
      // config.md: after a failed createRuntime/createContainer hook the
      // lifecycle continues at delete, which runs the poststop hooks
      // (whose failures are warnings only).
      runHooksWarning('poststop', spec.hooks?.poststop, stateFor(0, 'stopped'), (m) => logger.warn(m));
    }
    store.remove(o.id);
    throw error;
  } finally {
    lock.release();
  }
}
