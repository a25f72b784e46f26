import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { HostKernel } from '../../../ffi/host-kernel.js';
import { SyscallError } from '../../../ffi/syscall-error.js';
import type { LinuxResources, Spec } from '../../config/types.js';
import { readMountInfo, type MountInfoEntry } from '../mountinfo.js';
import { writeResources } from './resources/apply-resources.js';
import type { CgroupWrite } from './resources/cgroup-write.js';
import { availableWrites, enableControllers } from './resources/controllers.js';
import { planResources, type ResourcePlan } from './resources/plan-resources.js';

/**
 * Where cgroup2 is mounted: /sys/fs/cgroup on a pure cgroup v2 host, or the
 * "unified" tree of a hybrid host (where v1 controllers keep memory, cpu...).
 */
export function cgroup2Mount(mounts: readonly MountInfoEntry[] = readMountInfo()): string {
  const mount = mounts.find((m) => m.fsType === 'cgroup2');
  if (mount === undefined) {
    throw new Error('no cgroup2 filesystem is mounted on this host; tsrun manages cgroup v2 only (mount cgroup2 on /sys/fs/cgroup)');
  }
  return mount.mountPoint;
}

/** The cgroup of the calling process, relative to the cgroup2 root ("0::/path" in /proc/self/cgroup). */
export function ownCgroup(): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
  return line?.slice(3) ?? '/';
}

/**
 * The container's cgroup directory, from linux.cgroupsPath: absolute paths
 * are taken from the cgroup2 root, relative ones from the caller's own
 * cgroup, and no path means /<id> as with runc.
 */
export function cgroupDirectory(spec: Spec, id: string, systemd: boolean): string {
  const root = cgroup2Mount();
  // resolve() also drops a trailing slash: "/" must compare equal to the root.
  const dir = resolve(resolveCgroupPath(root, spec.linux?.cgroupsPath, id, systemd));
  // The container's cgroup is killed and removed on delete: it must be one
  // of its own, never the root or a cgroup that holds tsrun (and the engine).
  const own = join(root, ownCgroup());
  if (dir === root || own === dir || own.startsWith(`${dir}/`)) {
    throw new Error(
      `linux.cgroupsPath: ${dir} is ${dir === root ? 'the cgroup2 root' : "an ancestor of tsrun's own cgroup"}; give the container a cgroup of its own`,
    );
  }
  return dir;
}

function resolveCgroupPath(root: string, configured: string | undefined, id: string, systemd: boolean): string {
  if (systemd || (configured !== undefined && /^[^/]*:[^/]*:[^/]*$/.test(configured))) {
    return join(root, systemdPath(configured === undefined || configured === '' ? `:tsrun:${id}` : configured, id));
  }
  if (configured === undefined || configured === '') return join(root, id);
  if (isAbsolute(configured)) return join(root, configured);
  return join(root, ownCgroup(), configured);
}

/**
 * The cgroupfs path systemd would give "slice:prefix:name": each dash in the
 * slice name nests a parent slice (a-b.slice lives in a.slice), and the
 * unit is "<prefix>-<name>.scope". tsrun writes the path directly; it does
 * not ask systemd over D-Bus (see docs/ARCHITECTURE.md).
 */
export function systemdPath(cgroupsPath: string, id: string): string {
  const [slice = '', prefix = '', name = ''] = cgroupsPath.split(':');
  const sliceName = slice === '' ? 'system.slice' : slice;
  if (!sliceName.endsWith('.slice')) throw new Error(`linux.cgroupsPath: "${slice}" is not a systemd slice name (it must end in .slice)`);
  const parts = sliceName.slice(0, -'.slice'.length).split('-');
  if (sliceName !== '-.slice' && parts.some((p) => p === '')) {
    throw new Error(`linux.cgroupsPath: "${slice}" is not a valid systemd slice name (empty part between dashes)`);
  }
  const nested = parts.map((_, i) => `${parts.slice(0, i + 1).join('-')}.slice`);
  if (sliceName === '-.slice') nested.length = 0;
  const unit = name.endsWith('.slice') ? name : `${prefix === '' ? '' : `${prefix}-`}${name === '' ? id : name}.scope`;
  return join('/', ...nested, unit);
}

/**
 * Create the container's cgroup, and the parents that are missing, then
 * move `pid` into it. The cgroup itself must be new: an existing one may
 * hold other processes, which delete would kill. Returns the directories
 * created, deepest first: the cgroup, then its new parents.
 */
export function joinCgroup(kernel: HostKernel, dir: string, pid: number): string[] {
  const parents: string[] = [];
  for (let d = dirname(dir); !existsSync(d); d = dirname(d)) parents.unshift(d);
  const created: string[] = [];
  try {
    for (const parent of parents) {
      kernel.mkdir(parent);
      created.unshift(parent);
    }
    try {
      kernel.mkdir(dir);
    } catch (error) {
      if (error instanceof SyscallError && error.code === 'EEXIST') {
        throw new Error(`linux.cgroupsPath: the cgroup ${dir} already exists; tsrun gives each container a new cgroup of its own`);
      }
      throw error;
    }
    created.unshift(dir);
    kernel.writeFile(join(dir, 'cgroup.procs'), String(pid), 'linux.cgroupsPath');
    return created;
  } catch (error) {
    removeCgroups(kernel, created);
    throw error;
  }
}

/** Remove cgroups deepest first; one already gone, or still in use by someone else, is left. */
export function removeCgroups(kernel: HostKernel, dirs: readonly string[]): void {
  for (const dir of dirs) {
    try {
      kernel.rmdir(dir);
    } catch (error) {
      const code = error instanceof SyscallError ? error.code : '';
      if (code !== 'ENOENT' && code !== 'EBUSY' && code !== 'ENOTEMPTY') throw error;
    }
  }
}

/**
 * Plan linux.resources and check that this host's cgroup2 has every
 * controller the plan needs, before anything is created: a config that
 * cgroup v2 or this host cannot honour fails here and leaves nothing
 * behind. Returns the writes to make once the cgroup exists.
 */
export function checkResources(kernel: Pick<HostKernel, 'readFile'>, resources: LinuxResources | undefined): ResourcePlan {
  const plan = planResources(resources);
  if (plan.writes.length === 0) return plan;
  const mounts = readMountInfo();
  return { writes: availableWrites(kernel, cgroup2Mount(mounts), plan.writes, mounts), ignored: plan.ignored };
}

/**
 * Enable the controllers the writes need from the cgroup2 root down to the
 * cgroup's parent, then make the writes in the cgroup. Called while the
 * container's process waits at its first checkpoint: no user code runs
 * before its limits are in place.
 */
export function applyResources(kernel: HostKernel, cgroupDir: string, writes: readonly CgroupWrite[]): void {
  enableControllers(kernel, cgroup2Mount(), cgroupDir, writes);
  writeResources(kernel, cgroupDir, writes);
}
