import type { ContainerStatus, State } from '../../config/types.js';
import type { ContainerRecord } from './container-record.js';

/**
 * The runtime-spec state document (state.md): what `state` is built on,
 * what hooks read on stdin and what a seccomp listener receives. A stopped
 * container has no pid.
 */
export function ociState(container: Pick<ContainerRecord, 'ociVersion' | 'id' | 'pid' | 'bundle' | 'annotations'>, status: ContainerStatus): State {
  return {
    ociVersion: container.ociVersion,
    id: container.id,
    status,
    ...(status === 'stopped' ? {} : { pid: container.pid }),
    bundle: container.bundle,
    ...(container.annotations === undefined ? {} : { annotations: { ...container.annotations } }),
  };
}
