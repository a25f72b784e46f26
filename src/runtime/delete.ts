import { readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { logger } from './log.js';
import type { ContainerRecord } from './container-record.js';
import { HookError, runHook } from './hooks.js';
import { signalCgroup } from './kill.js';
import { lockContainer } from './lock.js';
import type { GlobalOptions } from './options.js';
import { ContainerNotFoundError, StateStore } from './state-store.js';
import { liveStatus, ociState } from './status.js';
import { unmountAll } from '../linux/rootfs/host-mounts.js';

// runc gives a SIGKILLed init 10 s to disappear before giving up.
const KILL_WAIT_MS = 10_000;
const POLL_MS = 10;
// Processes killed a moment ago may still be leaving the cgroup: rmdir fails with EBUSY meanwhile.
const CGROUP_REMOVE_ATTEMPTS = 50;

/**
 * `tsrun delete`: a stopped container is deleted; a created, running or
 * paused one only with `force` (SIGKILL, then wait for it). Without `force`,
 * an unknown id is an error.
 */
export async function deleteContainer(g: GlobalOptions, id: string, force: boolean): Promise<void> {
  const store = new StateStore(g.root);
  let lock;
  try {
    lock = lockContainer(store, id);
  } catch (error) {
    if (force && error instanceof ContainerNotFoundError) return;
    throw error;
  }
  try {
    let record: ContainerRecord;
    try {
      record = store.read(id);
    } catch (error) {
      if (!(error instanceof ContainerNotFoundError)) throw error;
      // We hold the lock, so no create is still filling this directory: it is
      // what an aborted create left behind.
      store.remove(id);
      if (force) return;
      throw error;
    }
    const status = liveStatus(store, record);
    if (status !== 'stopped') {
      // runtime-spec runtime.md: deleting a container that is not stopped
      // MUST fail (runc deletes a created one anyway; we follow the spec).
      if (!force) throw new Error(`cannot delete container ${id} that is not stopped: ${status}`);
      await killInit(store, record, status === 'paused');
    }
    await destroy(store, record);
  } finally {
    lock.release();
  }
}

async function killInit(store: StateStore, record: ContainerRecord, paused: boolean): Promise<void> {
  // SIGKILL reaches frozen tasks on cgroup v2, but they would stay frozen while dying.
  if (paused && record.cgroupPath !== undefined) writeFileSync(join(record.cgroupPath, 'cgroup.freeze'), '0');
  try {
    process.kill(record.pid, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
  for (let waited = 0; waited < KILL_WAIT_MS; waited += POLL_MS) {
    if (liveStatus(store, record) === 'stopped') return;
    await sleep(POLL_MS);
  }
  throw new Error(`container init (pid ${record.pid}) still running ${KILL_WAIT_MS / 1000}s after SIGKILL`);
}

/** Undoes create, then runs the poststop hooks (runtime-spec lifecycle steps 12 and 13). */
async function destroy(store: StateStore, record: ContainerRecord): Promise<void> {
  if (record.cgroupPath !== undefined) await removeCgroup(record.cgroupPath);
  for (const parent of record.cgroupParents ?? []) {
    try {
      rmdirSync(parent);
    } catch {
      // Shared with another container, or already gone: not ours to force.
    }
  }
  for (const skipped of unmountAll(record.hostMounts ?? [])) logger.warn(`left mount ${skipped.id} (${skipped.path}) in place: ${skipped.reason}`);
  const config = store.readConfig(record.id);
  const state = ociState(record, 'stopped');
  // config.md: a failing poststop hook is a warning; the other hooks and the delete go on.
  config?.hooks?.poststop?.forEach((hook, index) => {
    try {
      runHook('poststop', index, hook, state);
    } catch (error) {
      if (!(error instanceof HookError)) throw error;
      logger.warn(error.message);
    }
  });
  store.remove(record.id);
}

/** Kills whatever is left in the cgroup tree and removes it, children first. */
async function removeCgroup(cgroupPath: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      killTree(cgroupPath);
      removeTree(cgroupPath);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EBUSY' || attempt === CGROUP_REMOVE_ATTEMPTS) {
        logger.warn(`cannot remove cgroup ${cgroupPath}: ${(error as Error).message}`);
        return;
      }
      await sleep(POLL_MS);
    }
  }
}

/**
 * SIGKILL every process of the cgroup tree: through cgroup.kill where the
 * kernel has it (5.14+), which also catches processes forked while we
 * look; else one pid at a time.
 */
function killTree(cgroupPath: string): void {
  try {
    // r+: never create the file in a directory that is not (or no longer) a cgroup.
    writeFileSync(join(cgroupPath, 'cgroup.kill'), '1', { flag: 'r+' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    signalCgroup(cgroupPath, constants.signals.SIGKILL);
  }
}

// A cgroup that is already gone counts as removed.
function removeTree(dir: string): void {
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) removeTree(join(dir, entry.name));
    }
    rmdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
