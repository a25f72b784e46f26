import { isAbsolute, join, posix } from 'node:path';

/**
 * The container's cgroup, as a path from a hierarchy's root, from
 * linux.cgroupsPath: "slice:prefix:name" (or --systemd-cgroup) is mapped to
 * the path systemd would use (below `systemdBase`, a user instance's own
 * cgroup); an absolute path is taken as it is; a
 * relative one, and (where `defaultUnderOwn`) none, from the caller's own
 * cgroup in that hierarchy; none is otherwise /<id>.
 */
export function containerCgroupPath(
  configured: string | undefined,
  id: string,
  options: { readonly systemd: boolean; readonly own: string; readonly defaultUnderOwn: boolean; readonly systemdBase?: string },
): string {
  if (options.systemd || (configured !== undefined && /^[^/]*:[^/]*:[^/]*$/.test(configured))) {
    return join('/', options.systemdBase ?? '', systemdPath(configured === undefined || configured === '' ? `:tsrun:${id}` : configured, id));
  }
  if (configured === undefined || configured === '') return options.defaultUnderOwn ? join(options.own, id) : `/${id}`;
  // resolve() also drops a trailing slash: "/" must compare equal to the root.
  if (isAbsolute(configured)) return posix.resolve(configured);
  return posix.resolve(options.own, configured);
}

/**
 * The container's cgroup is killed and removed on delete: it must be one of
 * its own, never a hierarchy's root (`rootName` says which) or a cgroup that
 * holds tsrun (and the engine that called it). All three are directories.
 */
export function refuseSharedCgroup(dir: string, root: string, ownDir: string, rootName: string): void {
  if (dir === root || ownDir === dir || ownDir.startsWith(`${dir}/`)) {
    throw new Error(
      `linux.cgroupsPath: ${dir} is ${dir === root ? rootName : "an ancestor of tsrun's own cgroup"}; give the container a cgroup of its own`,
    );
  }
}

/**
 * The cgroupfs path systemd would give "slice:prefix:name": each dash in the
 * slice name nests a parent slice (a-b.slice lives in a.slice), and the
 * unit is "<prefix>-<name>.scope". Where systemd runs, its driver has
 * systemd make that scope (systemd/scope.ts); elsewhere tsrun makes the
 * directory itself.
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
