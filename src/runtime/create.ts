import type { Puppet } from '../../ffi/puppet.js';
import { SPEC_VERSION } from '../config/spec-version.js';
import type { State } from '../config/types.js';
import { loadSpec } from '../config/validate.js';
import { assertValidId } from './container-id.js';
import type { ContainerRecord } from './container-record.js';
import { HookError, runHooks } from './hooks.js';
import { launch } from './launch.js';
import { lockContainer } from './lock.js';
import { writePidFile } from './pid-file.js';
import type { CreateOptions, GlobalOptions } from './options.js';
import { StateStore } from './state-store.js';
import { sendToConsoleSocket } from './terminal.js';
import { processStartTime } from './status.js';

/** `tsrun create`: the container's process exists and waits for `start`. */
export async function create(g: GlobalOptions, o: CreateOptions): Promise<void> {
  const created = createContainer(g, o, false);
  created.puppet.detach();
}

export interface CreatedContainer {
  readonly record: ContainerRecord;
  readonly puppet: Puppet;
  /** A foreground `run` with process.terminal and no --console-socket: the pty master, for tsrun's own stdio. */
  readonly terminal?: number;
}

/**
 * Validate, reserve the id, launch the container process and record it.
 * Any failure undoes everything done so far, in reverse: the process is
 * killed, its cgroup removed, the state directory deleted.
 */
export function createContainer(g: GlobalOptions, o: CreateOptions, foreground: boolean): CreatedContainer {
  assertValidId(o.id);
  const spec = loadSpec(o.bundle);
  const store = new StateStore(g.root);
  store.reserve(o.id);
  const lock = lockContainer(store, o.id);
  const undo: Array<() => void> = [];
  const stateFor = (pid: number, status: State['status'] = 'creating'): State => ({
    ociVersion: SPEC_VERSION,
    id: o.id,
    status,
    pid,
    bundle: o.bundle,
    ...(spec.annotations === undefined ? {} : { annotations: spec.annotations }),
  });
  try {
    store.writeConfig(o.id, spec);
    const launched = launch(o, {
      spec,
      fifoPath: store.fifoPath(o.id),
      systemdCgroup: g.systemdCgroup,
      stateFor,
      onUndo: (action) => undo.push(action),
      foreground,
    });
    const pid = launched.puppet.pid;
    const record: ContainerRecord = {
      ociVersion: SPEC_VERSION,
      id: o.id,
      pid,
      bundle: o.bundle,
      ...(spec.annotations === undefined ? {} : { annotations: spec.annotations }),
      pidStartTime: processStartTime(pid),
      created: new Date().toISOString(),
      rootfs: launched.rootfs,
      ...(launched.cgroupPath === undefined ? {} : { cgroupPath: launched.cgroupPath }),
      ...(launched.cgroupParents.length === 0 ? {} : { cgroupParents: launched.cgroupParents }),
      ...(launched.hostMounts.length === 0 ? {} : { hostMounts: launched.hostMounts }),
      owner: process.geteuid?.() ?? 0,
      started: false,
    };
    store.write(record);
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
        action();
      } catch {
        // Best effort: the original error is the one to report.
      }
    }
    if (error instanceof HookError) {
      // config.md: after a failed createRuntime/createContainer hook the
      // lifecycle continues at delete, which runs the poststop hooks.
      try {
        runHooks('poststop', spec.hooks?.poststop, stateFor(0, 'stopped'));
      } catch {
        // poststop failures are warnings only.
      }
    }
    store.remove(o.id);
    throw error;
  } finally {
    lock.release();
  }
}
