import { closeSync, constants, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { Container } from '../container/container.js';
import { crashPoint } from '../crash-point.js';
import { readProcessStat } from '../container/status.js';
import { runHooks, runHooksWarning } from '../hooks.js';
import { logger } from '../log.js';
import type { GlobalOptions } from '../options.js';
import { deleteContainer } from './delete.js';

/** `tsrun start`: let a created container's process execve its command. */
export async function start(g: GlobalOptions, id: string): Promise<void> {
  let hookFailure: unknown;
  await Container.locked(g.root, id, async (container) => {
    container.allow('start');
    const { record, store } = container;
    const spec = store.readConfig(id);
    try {
      // config.md: prestart hooks run after the start operation is called,
      // in the runtime namespace; then the startContainer hooks, in the
      // container, before the user's program.
      runHooks('prestart', spec?.hooks?.prestart, container.state('created'));
      if (spec !== undefined && (spec.hooks?.startContainer ?? []).length > 0) {
        // Loaded only when needed: it brings the exec machinery (the planners).
        const { runStartContainerHooks } = await import('../process/start-container-hooks.js');
        await runStartContainerHooks(container, spec);
      }
    } catch (error) {
      hookFailure = error;
      return;
    }
    crashPoint('start:before-release');
    releaseExecFifo(store.fifoPath(id), record.pid);
    crashPoint('start:after-release');
    const started = container.save({ ...record, started: true });
    crashPoint('start:after-state-write');
    // config.md: poststart hooks run after the user's process is executed.
    awaitExec(record.pid);
    // config.md: a failed poststart hook is a warning; the others still run.
    runHooksWarning('poststart', spec?.hooks?.poststart, started.state('running'), (m) => logger.warn(m));
  });
  if (hookFailure !== undefined) {
    // config.md: a failed prestart or startContainer hook stops the
    // container and the lifecycle goes on to delete (poststop hooks included).
    await deleteContainer(g, id, true);
    throw hookFailure;
  }
}

/**
 * Open the exec fifo for writing and write "/": the container process,
 * blocked opening it for reading, reads that byte as the first character
 * of its executable's path and execs. O_NONBLOCK turns "nobody is waiting"
 * (the process died) into ENXIO instead of a hang.
 */
function releaseExecFifo(path: string, pid: number): void {
  const fd = openWhenWaiting(path, pid);
  // (Node opens every fd close-on-exec.)
  try {
    // Unlinked before the byte is written: the fifo's presence is what says
    // "created" (status.ts), so it must be gone before the process can exec.
    // Should tsrun die in between, the process reads end-of-file and exits:
    // stopped, which is then the truth.
    crashPoint('start:fifo-opened');
    unlinkSync(path);
    writeSync(fd, '/');
    crashPoint('start:fifo-written');
  } finally {
    closeSync(fd);
  }
}

/**
 * ENXIO means no reader yet. Right after create (as in `run`) the process
 * may still be on its way from its last checkpoint to the fifo; give it a
 * moment while it lives, and fail clearly if it does not get there.
 */
function openWhenWaiting(path: string, pid: number): number {
  const fd = whileAlive(pid, () => {
    try {
      return openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENXIO') throw error;
      return undefined;
    }
  });
  if (fd === undefined) {
    throw new Error(`the container process (pid ${pid}) is not waiting on ${path} (it was killed?); delete the container`);
  }
  return fd;
}

/**
 * Until execve the container process is a copy of this Node process: its
 * /proc/<pid>/exe is our own binary. Wait until it is not (or the process
 * is gone, when execve failed and it exited).
 */
function awaitExec(pid: number): void {
  const node = statSync('/proc/self/exe');
  whileAlive(pid, () => {
    let exe;
    try {
      exe = statSync(`/proc/${pid}/exe`);
    } catch {
      return true;
    }
    return exe.dev !== node.dev || exe.ino !== node.ino ? true : undefined;
  });
}

/**
 * Retry `attempt` every millisecond or two until it returns a value; give up
 * (undefined) once the process is gone or after WAIT_MS.
 */
function whileAlive<T>(pid: number, attempt: () => T | undefined): T | undefined {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const result = attempt();
    if (result !== undefined) return result;
    if (!isAlive(pid) || Date.now() > deadline) return undefined;
    Atomics.wait(SLEEPER, 0, 0, 1);
  }
}

const WAIT_MS = 5000;
const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

function isAlive(pid: number): boolean {
  const stat = readProcessStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}
