import { setTimeout as sleep } from 'node:timers/promises';
import { hostKernel, SIGKILL, SyscallError } from '../../linux/kernel.js';
import { openCgroup } from '../../linux/cgroups/manager.js';
import { newMountsUnder, unmountAll, type SkippedMount } from '../../linux/rootfs/host-mounts.js';
import { Container } from '../container/container.js';
import { crashPoint } from '../crash-point.js';
import { ContainerNotFoundError, CorruptStateError, type InitOfCreate } from '../container/state-store.js';
import { processAlive } from '../container/status.js';
import { runHooksWarning } from '../hooks.js';
import { logger } from '../log.js';
import type { GlobalOptions } from '../options.js';

// runc gives a SIGKILLed init 10 s to disappear before giving up.
const KILL_WAIT_MS = 10_000;
const POLL_MS = 10;

/**
 * `tsrun delete`: a stopped container is deleted; a created, running or
 * paused one only with `force` (SIGKILL, then wait for it). Without `force`,
 * an unknown id is an error.
 */
export async function deleteContainer(g: GlobalOptions, id: string, force: boolean): Promise<void> {
  try {
    await Container.locked(
      g.root,
      id,
      async (container) => {
        // runtime-spec runtime.md: deleting a container that is not stopped
        // MUST fail (runc deletes a created one anyway; we follow the spec).
        const status = force ? container.status() : container.allow('delete');
        if (status !== 'stopped') await killInit(container, status === 'paused');
        crashPoint('delete:after-kill');
        await destroy(container);
      },
      async (store, problem) => {
        // A state.json that does not parse might describe a live container: only --force goes on.
        if (problem instanceof CorruptStateError && !force) throw problem;
        // A create that died before state.json (SIGKILL, OOM) may have left its process waiting (past "ready", it no longer
        // dies with tsrun), and made cgroups. A state.json that does not parse leaves the same records to go by.
        const init = leftover(() => store.readInitOfCreate(id));
        if (init !== undefined) await killLeftInit(init);
        const placement = leftover(() => store.readCgroupOfCreate(id));
        if (placement !== undefined) for (const warning of await openCgroup(hostKernel, placement).destroy()) logger.warn(warning);
        // And, without a mount namespace, mounts in the host's (unmounted once its process is gone, with the cgroup).
        const mounts = leftover(() => store.readHostMountsOfCreate(id));
        if (mounts !== undefined) warnSkipped(unmountAll(newMountsUnder(mounts.rootfs, new Set(mounts.before))));
        store.remove(id);
        if (problem instanceof CorruptStateError) logger.warn(`removed container ${id}, whose ${problem.file} was corrupt`);
        else if (!force) throw problem;
      },
    );
  } catch (error) {
    if (force && error instanceof ContainerNotFoundError) return;
    throw error;
  }
}

/** A record of an unfinished create; one that does not parse is reported and gone by as missing. */
function leftover<T>(read: () => T | undefined): T | undefined {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof CorruptStateError)) throw error;
    logger.warn(`${error.file} does not parse: what it recorded is not cleaned up`);
    return undefined;
  }
}

async function killInit(container: Container, paused: boolean): Promise<void> {
  const { pid } = container.record;
  sigkill(pid);
  // A frozen task dies only once thawed (v1), or stays frozen while dying (v2).
  if (paused) await container.cgroup()?.setFrozen(false);
  await waitGone(() => container.status() === 'stopped', `container init (pid ${pid})`);
}

/** The init of an unfinished create, if it still is that process: SIGKILL, then wait for it to go. */
async function killLeftInit(init: InitOfCreate): Promise<void> {
  if (!processAlive(init.pid, init.pidStartTime)) return;
  sigkill(init.pid);
  await waitGone(() => !processAlive(init.pid, init.pidStartTime), `the init (pid ${init.pid}) of an unfinished create`);
}

function sigkill(pid: number): void {
  try {
    hostKernel.kill(pid, SIGKILL);
  } catch (error) {
    if (!(error instanceof SyscallError && error.code === 'ESRCH')) throw error;
  }
}

async function waitGone(gone: () => boolean, what: string): Promise<void> {
  for (let waited = 0; waited < KILL_WAIT_MS; waited += POLL_MS) {
    if (gone()) return;
    await sleep(POLL_MS);
  }
  throw new Error(`${what} still running ${KILL_WAIT_MS / 1000}s after SIGKILL`);
}

/** Undoes create, then runs the poststop hooks (runtime-spec lifecycle steps 12 and 13). */
async function destroy(container: Container): Promise<void> {
  for (const warning of (await container.cgroup()?.destroy()) ?? []) logger.warn(warning);
  crashPoint('delete:after-cgroup-destroy');
  warnSkipped(unmountAll(container.record.hostMounts ?? []));
  const config = container.store.readConfig(container.id);
  // config.md: a failing poststop hook is a warning; the other hooks and the delete go on.
  runHooksWarning('poststop', config?.hooks?.poststop, container.state('stopped'), (m) => logger.warn(m));
  crashPoint('delete:before-state-remove');
  container.store.remove(container.id);
}

function warnSkipped(skipped: readonly SkippedMount[]): void {
  for (const mount of skipped) logger.warn(`left mount ${mount.id} (${mount.path}) in place: ${mount.reason}`);
}
