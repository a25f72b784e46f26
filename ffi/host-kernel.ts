import { hostFiles } from './host-files.js';
import { lastErrno, libc } from './libc.js';
import { errnoName, SyscallError } from './syscall-error.js';

/**
 * The calls tsrun makes on the host from the Node process itself (the
 * container's own steps go through the call chain instead). Subsystems take
 * this interface so unit tests can record the calls instead of making them.
 */
export interface HostKernel {
  /** Write a whole file (procfs, cgroupfs): one write(2), as the kernel expects. */
  writeFile(path: string, data: string, field?: string): void;
  readFile(path: string): string;
  /** mkdir(2) of one directory: EEXIST is an error like any other. */
  mkdir(path: string): void;
  rmdir(path: string): void;
  prlimit(pid: number, resource: number, soft: bigint, hard: bigint, field: string): void;
  kill(pid: number, signal: number): void;
}

export const hostKernel: HostKernel = {
  ...hostFiles,
  prlimit(pid, resource, soft, hard, field) {
    const limits = new BigUint64Array([soft, hard]);
    if (libc().prlimit(pid, resource, limits, null) !== 0) {
      const errno = lastErrno();
      const hint =
        errnoName(errno) === 'EPERM'
          ? 'raising a hard limit above the current one needs CAP_SYS_RESOURCE, which tsrun does not have here; lower the hard limit'
          : undefined;
      throw new SyscallError('prlimit', errno, field, hint);
    }
  },
  kill(pid, signal) {
    if (libc().kill(pid, signal) !== 0) throw new SyscallError('kill', lastErrno(), `pid ${pid}`);
  },
};
