import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HostKernel } from '../../../../ffi/host-kernel.js';
import { SyscallError } from '../../../../ffi/syscall-error.js';

const POLL_MS = 10;
/** As runc and the v2 driver: a cgroup that has not frozen after 10 s will not (a task stuck in the kernel). */
export const FREEZE_TIMEOUT_MS = 10_000;

type Kernel = Pick<HostKernel, 'readFile' | 'writeFile'>;

/**
 * Freeze or thaw every process of a v1 freezer cgroup (and the cgroups
 * below it), and wait until freezer.state says it is done: FROZEN once
 * every task has stopped. The v1 freezer can miss tasks forked while it
 * works and stay FREEZING; the kernel's documentation used to say to write
 * FROZEN again then, and runc keeps doing so: each poll that still sees
 * FREEZING writes it again. A cgroup that does not freeze in time is
 * thawed, so that a failed pause leaves the container running rather than
 * half stopped.
 */
export async function setFreezerState(kernel: Kernel, dir: string, frozen: boolean, timeoutMs = FREEZE_TIMEOUT_MS): Promise<void> {
  const file = join(dir, 'freezer.state');
  const wanted = frozen ? 'FROZEN' : 'THAWED';
  kernel.writeFile(file, wanted);
  let state = '';
  for (let waited = 0; waited < timeoutMs; waited += POLL_MS) {
    state = readState(kernel, file);
    if (state === wanted) return;
    await sleep(POLL_MS);
    if (frozen && state === 'FREEZING') kernel.writeFile(file, wanted);
  }
  if (frozen) kernel.writeFile(file, 'THAWED');
  throw new Error(
    `${file} still said ${state} instead of ${wanted} after ${timeoutMs / 1000} s` +
      (frozen ? '; the container was thawed again (a task may be stuck in the kernel: see its /proc/<pid>/stack)' : ''),
  );
}

function readState(kernel: Pick<HostKernel, 'readFile'>, file: string): string {
  return kernel.readFile(file).trim();
}

/**
 * Whether the container is paused, as runc's status tells it: its own
 * cgroup was asked to freeze (freezer.self_freezing), not merely an
 * ancestor. A freeze still settling (FREEZING) counts, as on cgroup v2,
 * where "paused" means asked. Kernels before 3.14 have no
 * self_freezing: FROZEN is taken for paused there. A cgroup that is gone
 * is not frozen.
 */
export function isPaused(kernel: Pick<HostKernel, 'readFile'>, dir: string): boolean {
  let state: string;
  try {
    state = readState(kernel, join(dir, 'freezer.state'));
  } catch (error) {
    if (error instanceof SyscallError && error.code === 'ENOENT') return false;
    throw error;
  }
  if (state === 'THAWED') return false;
  try {
    return kernel.readFile(join(dir, 'freezer.self_freezing')).trim() === '1';
  } catch (error) {
    if (error instanceof SyscallError && error.code === 'ENOENT') return state === 'FROZEN';
    throw error;
  }
}
