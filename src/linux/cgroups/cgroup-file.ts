import { constants } from 'node:os';
import { join } from 'node:path';
import type { HostKernel } from '../../../ffi/host-kernel.js';
import { SyscallError } from '../../../ffi/syscall-error.js';
import { isMissingFile } from './missing-file.js';
import type { CgroupWrite } from './v2/resources/cgroup-write.js';

/** What to do about a refused write, for the errno name `code`: each driver knows its own files. */
export type WriteHint = (code: string, w: CgroupWrite) => string;

/**
 * Make one planned write in a cgroup directory (v1 or v2). A failure names
 * the value, the file, the errno, the config field and what to do; a file
 * the cgroup lacks is reported as ENOENT whatever errno cgroupfs chose
 * (see missing-file.ts), after trying the write's fallback; the errnos the
 * write tolerates are nothing to report.
 */
export function writeCgroupFile(kernel: Pick<HostKernel, 'writeFile' | 'readFile'>, dir: string, w: CgroupWrite, hint: WriteHint): void {
  const path = join(dir, w.file);
  try {
    kernel.writeFile(path, w.value, w.field);
  } catch (error) {
    if (!(error instanceof SyscallError)) throw error;
    const code = isMissingFile(kernel, path, error) ? 'ENOENT' : error.code;
    if (code === 'ENOENT' && w.fallback !== undefined) {
      writeCgroupFile(kernel, dir, w.fallback, hint);
      return;
    }
    if (w.tolerate?.includes(code) === true) return;
    const errno = code === error.code ? error.errno : constants.errno.ENOENT;
    throw new SyscallError('write', errno, `${JSON.stringify(w.value)} to ${path} (${w.field})`, hint(code, w));
  }
}
