import { join, relative, sep } from 'node:path';
import type { HostKernel } from '../../../../../ffi/host-kernel.js';
import { SyscallError } from '../../../../../ffi/syscall-error.js';
import type { MountInfoEntry } from '../../../mountinfo.js';
import type { CgroupWrite } from './cgroup-write.js';

/** A space-separated controller list: cgroup.controllers or cgroup.subtree_control. */
function readControllers(kernel: Pick<HostKernel, 'readFile'>, file: string): Set<string> {
  return new Set(kernel.readFile(file).split(/\s+/).filter((name) => name !== ''));
}

/**
 * Check that the cgroup2 hierarchy at `root` has every controller the
 * writes need (its cgroup.controllers lists all it can ever give), and
 * refuse those it lacks, naming each field, the controller and why: on a
 * hybrid host the controller usually sits in a cgroup v1 hierarchy, which
 * tsrun does not manage. A kernel default needs nothing: its write is
 * dropped instead. Returns the writes to make.
 */
export function availableWrites(
  kernel: Pick<HostKernel, 'readFile'>,
  root: string,
  writes: readonly CgroupWrite[],
  mounts: readonly MountInfoEntry[],
): CgroupWrite[] {
  if (writes.every((w) => w.controller === undefined)) return [...writes];
  const available = readControllers(kernel, join(root, 'cgroup.controllers'));
  const missing = new Map<string, string[]>();
  for (const w of writes) {
    if (w.controller === undefined || available.has(w.controller) || w.kernelDefault === true) continue;
    const fields = missing.get(w.controller) ?? [];
    if (!fields.includes(w.field)) fields.push(w.field);
    missing.set(w.controller, fields);
  }
  if (missing.size > 0) {
    const listed = [...available].join(' ') || 'none';
    const lines = [...missing].map(([controller, fields]) => {
      const owner = v1Owner(mounts, controller);
      const why =
        owner === undefined
          ? 'this kernel does not offer it (not built in, or turned off with cgroup_disable=); remove the field'
          : `on this hybrid host the cgroup v1 hierarchy at ${owner} owns it, and tsrun manages cgroup v2 only; remove the field, or boot the host with cgroup v2 alone (systemd.unified_cgroup_hierarchy=1)`;
      return `${fields.join(', ')} ${fields.length > 1 ? 'need' : 'needs'} the cgroup v2 ${controller} controller, which is not available in ${root} (cgroup.controllers: ${listed}): ${why}`;
    });
    throw new Error(lines.join('\n'));
  }
  return writes.filter((w) => w.controller === undefined || available.has(w.controller));
}

/** Where a cgroup v1 hierarchy holds the controller (blkio is v2's io). */
function v1Owner(mounts: readonly MountInfoEntry[], controller: string): string | undefined {
  const name = controller === 'io' ? 'blkio' : controller;
  return mounts.find((m) => m.fsType === 'cgroup' && m.superOptions.includes(name))?.mountPoint;
}

/**
 * Give the container's cgroup the controllers the writes need: a cgroup
 * gets a controller's files when its parent has the controller in
 * cgroup.subtree_control, which its own parent must have enabled first. So
 * each cgroup from the cgroup2 root down to the container's parent gets
 * "+<controller>", top down, one controller per write (so a failure names
 * it); a cgroup that already has it is left alone. Nothing else is enabled:
 * runc enables every controller the host has, which costs accounting on
 * every controller for nothing asked.
 */
export function enableControllers(kernel: HostKernel, root: string, cgroupDir: string, writes: readonly CgroupWrite[]): void {
  const needed = new Map<string, string>();
  for (const w of writes) {
    if (w.controller !== undefined && !needed.has(w.controller)) needed.set(w.controller, w.field);
  }
  if (needed.size === 0) return;
  for (const ancestor of ancestorsOf(root, cgroupDir)) {
    const file = join(ancestor, 'cgroup.subtree_control');
    const enabled = readControllers(kernel, file);
    for (const [controller, field] of needed) {
      if (enabled.has(controller)) continue;
      try {
        kernel.writeFile(file, `+${controller}`, field);
      } catch (error) {
        if (!(error instanceof SyscallError)) throw error;
        throw new SyscallError(error.syscall, error.errno, `"+${controller}" to ${file} (${field})`, enableHint(error.code, ancestor, controller));
      }
    }
  }
}

/** The cgroup2 root and every cgroup below it down to the parent of `cgroupDir`, top down. */
export function ancestorsOf(root: string, cgroupDir: string): string[] {
  const parts = relative(root, cgroupDir).split(sep).slice(0, -1);
  return parts.reduce((dirs, part) => [...dirs, join(dirs[dirs.length - 1] ?? root, part)], [root]);
}

function enableHint(code: string, cgroup: string, controller: string): string {
  switch (code) {
    case 'EBUSY':
      return `${cgroup} holds processes of its own, and cgroup v2 gives controllers only to the children of a cgroup without processes; choose a linux.cgroupsPath whose parents hold no processes`;
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return `tsrun may not change the controllers of ${cgroup}; run as root, or delegate a cgroup that has the ${controller} controller enabled`;
    case 'EOPNOTSUPP':
      return `${cgroup} is a threaded cgroup, which cannot pass on a domain controller such as ${controller}; choose another linux.cgroupsPath`;
    default:
      return `the kernel refused to enable the ${controller} controller there; remove the field, or enable the controller by hand`;
  }
}
