import { O } from '../../../ffi/constants.js';
import type { RootfsContext } from './rootfs-context.js';

/**
 * Steps that create `path` (absolute, inside the container) and its missing
 * parents, each component resolved inside the rootfs. Existing components
 * are fine (EEXIST tolerated); the last one is a file when `file` is set,
 * as a bind mount of a file needs. `field` names the config field the path
 * comes from (`mounts[3].destination`), in errors and in each step's report.
 * For a directory, returns the index of the mkdirat step of the last
 * component (none for "/"): its report, 0 or EEXIST, says whether the
 * directory was already there.
 */
export function makePath(ctx: RootfsContext, path: string, file: boolean, field: string): number | undefined {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new Error(`${field}: ${path} must not contain ".."`);
  const w = ctx.writer;
  let last: number | undefined;
  parts.forEach((name, i) => {
    const parent = `/${parts.slice(0, i).join('/')}`;
    const isLast = i === parts.length - 1;
    const full = `${parent === '/' ? '' : parent}/${name}`;
    if (isLast && file) {
      // Read-only: an existing file on a read-only filesystem opens fine (runc's /etc/hosts case).
      // Non-blocking: an image may ship a FIFO there, and open must not wait for a writer.
      const fd = w.openInRoot(`${field}: create file ${full} in the rootfs`, ctx.rootFd, full, O.CREAT | O.RDONLY | O.NOCTTY | O.NONBLOCK, 0o644);
      w.close(fd);
      return;
    }
    const parentFd = i === 0 ? ctx.rootFd : w.openInRoot(`${field}: open ${parent} in the rootfs`, ctx.rootFd, parent, O.PATH | O.DIRECTORY);
    last = w.check(`${field}: mkdir ${full} in the rootfs`, 'mkdirat', [parentFd, name, 0o755], ['EEXIST']);
    if (i !== 0) w.close(parentFd);
  });
  return last;
}
