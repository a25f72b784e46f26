import type { CgroupPlacement } from '../../linux/cgroups/manager.js';

/**
 * What tsrun persists about one container in <root>/<id>/state.json: the OCI
 * state fields that do not change after create, plus the facts later commands
 * need to find and judge the container's processes. The live status is never
 * stored; it is derived from these facts each time (see status.ts).
 */
export interface ContainerRecord {
  readonly ociVersion: string;
  readonly id: string;
  /** Host pid of the container's init process. */
  readonly pid: number;
  /** Absolute path of the bundle directory. */
  readonly bundle: string;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Field 22 of /proc/<pid>/stat at create time: tells a reused pid from ours. */
  readonly pidStartTime: number;
  /** ISO 8601 time of creation. */
  readonly created: string;
  /** Absolute path of the root filesystem. */
  readonly rootfs: string;
  /** The container's cgroups; none for an unprivileged caller without a delegated cgroup. */
  readonly cgroup?: CgroupPlacement;
  /** Mounts the container made in the host's mount namespace (it had none of its own), deepest first. */
  readonly hostMounts?: readonly { readonly id: number; readonly path: string }[];
  /** uid of the user who created the container. */
  readonly owner: number;
  /** Whether `start` has released the container's process. */
  readonly started: boolean;
}
