import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HostKernel } from '../../../../ffi/host-kernel.js';
import { SyscallError } from '../../../../ffi/syscall-error.js';
import { isMissingFile } from '../missing-file.js';

const POLL_MS = 10;
/** As runc: a cgroup that has not frozen after 10 s will not (a task stuck in the kernel). */
const FREEZE_TIMEOUT_MS = 10_000;

/**
 * Freeze or thaw every process of a cgroup v2 tree (cgroup.freeze, Linux
 * 5.2+), and wait until the kernel reports it done: writing "1" only starts
 * freezing, and cgroup.events says "frozen 1" once every task has stopped.
 * A cgroup that does not freeze in time is thawed again, so that a failed
 * pause leaves the container running rather than half stopped.
 */
export async function setFrozen(kernel: Pick<HostKernel, 'readFile' | 'writeFile'>, cgroupDir: string, frozen: boolean): Promise<void> {
  const file = join(cgroupDir, 'cgroup.freeze');
  try {
    kernel.writeFile(file, frozen ? '1' : '0');
  } catch (error) {
    if (error instanceof SyscallError && isMissingFile(kernel, file, error)) {
      throw new SyscallError(error.syscall, error.errno, file, 'this kernel has no cgroup v2 freezer (Linux 5.2 or later has one); the container cannot be paused');
    }
    throw error;
  }
  for (let waited = 0; waited < FREEZE_TIMEOUT_MS; waited += POLL_MS) {
    if (isFrozen(kernel, cgroupDir) === frozen) return;
    await sleep(POLL_MS);
  }
  if (frozen) kernel.writeFile(file, '0');
  throw new Error(
    `${join(cgroupDir, 'cgroup.events')} did not show "frozen ${frozen ? 1 : 0}" within ${FREEZE_TIMEOUT_MS / 1000} s` +
      (frozen ? '; the container was thawed again (a task may be stuck in the kernel: see its /proc/<pid>/stack)' : ''),
  );
}

/** The "frozen" key of cgroup.events: whether every task of the tree has actually stopped. */
export function isFrozen(kernel: Pick<HostKernel, 'readFile'>, cgroupDir: string): boolean {
  const line = kernel
    .readFile(join(cgroupDir, 'cgroup.events'))
    .split('\n')
    .find((l) => l.startsWith('frozen '));
  return line?.slice('frozen '.length).trim() === '1';
}

/**
 * Whether the cgroup is paused, as runc's status says it: cgroup.freeze
 * holds what was asked (a freeze still settling counts as paused). A
 * cgroup that is gone, or a kernel without the freezer, is not frozen.
 */
export function freezeRequested(kernel: Pick<HostKernel, 'readFile'>, cgroupDir: string): boolean {
  const file = join(cgroupDir, 'cgroup.freeze');
  try {
    return kernel.readFile(file).trim() === '1';
  } catch (error) {
    if (error instanceof SyscallError && error.code === 'ENOENT') return false;
    throw error;
  }
}
