import { closeSync } from 'node:fs';
import { takeFd } from '../../../ffi/pidfd.js';
import { sendFd } from '../../../ffi/unix-socket.js';
import { SPEC_VERSION } from '../../config/spec-version.js';
import type { Seccomp, State } from '../../config/types.js';
import type { SeccompListener } from './plan-seccomp.js';

/**
 * runtime.md, "container process state": the seccomp listener fd of
 * process `pid` goes to linux.seccomp.listenerPath with SCM_RIGHTS, and the
 * message names it ("seccompFd") beside the pid, the listenerMetadata and
 * the container's state. One connection per process, closed after sending.
 */
export function sendSeccompListener(pid: number, listener: SeccompListener, seccomp: Seccomp, state: State): void {
  const path = seccomp.listenerPath;
  if (path === undefined || path === '') throw new Error('linux.seccomp.listenerPath: SCMP_ACT_NOTIFY needs a listener socket');
  const fd = takeFd(pid, listener.fd);
  try {
    const message = {
      ociVersion: SPEC_VERSION,
      fds: ['seccompFd'],
      pid,
      ...(seccomp.listenerMetadata === undefined ? {} : { metadata: seccomp.listenerMetadata }),
      state,
    };
    sendFd(path, fd, JSON.stringify(message));
  } catch (error) {
    throw new Error(`linux.seccomp.listenerPath: cannot hand the seccomp listener to ${path}: ${(error as Error).message}`);
  } finally {
    closeSync(fd);
  }
}
