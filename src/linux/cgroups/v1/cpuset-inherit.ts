import { dirname, join } from 'node:path';
import type { HostKernel } from '../../../../ffi/host-kernel.js';
import { cgroupWrite, type CgroupWrite } from '../v2/resources/cgroup-write.js';
import { writeV1 } from './resources/write.js';

const FILES = ['cpuset.cpus', 'cpuset.mems'] as const;

/**
 * A new cgroup v1 cpuset starts with no CPUs and no memory nodes (unless
 * its parent has cgroup.clone_children set), and the kernel refuses to
 * move a process into it (ENOSPC). So before the container's process
 * joins, as runc does, each cpuset cgroup create made, top down, gets what
 * its parent has, and the container's own one gets the config's cpus and
 * mems first, then its parent's for whichever the config leaves out.
 * Cgroups that existed already are never written: one left empty by
 * someone else makes the join fail, with a hint saying so.
 */
export function fillCpusets(
  kernel: Pick<HostKernel, 'readFile' | 'writeFile'>,
  dir: string,
  createdTopDown: readonly string[],
  configured: readonly CgroupWrite[],
): void {
  for (const cgroup of createdTopDown) {
    if (cgroup === dir) for (const w of configured) writeV1(kernel, dir, w);
    for (const file of FILES) copyIfEmpty(kernel, cgroup, file);
  }
}

function copyIfEmpty(kernel: Pick<HostKernel, 'readFile' | 'writeFile'>, cgroup: string, file: string): void {
  if (kernel.readFile(join(cgroup, file)).trim() !== '') return;
  const parent = dirname(cgroup);
  const inherited = kernel.readFile(join(parent, file)).trim();
  if (inherited === '') return;
  writeV1(kernel, cgroup, cgroupWrite(file, inherited, `linux.cgroupsPath: ${file} copied from ${parent}`));
}

/** The planned writes fillCpusets makes itself: they must be in place before the process joins. */
export function isJoinPrerequisite(w: CgroupWrite): boolean {
  return (FILES as readonly string[]).includes(w.file);
}
