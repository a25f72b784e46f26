import type { Spec } from '../../config/types.js';
import type { ChainWriter } from '../chain-writer.js';
import type { MountInfoEntry } from '../mountinfo.js';

/** What the rootfs planners share while they append steps. */
export interface RootfsContext {
  readonly spec: Spec;
  readonly bundle: string;
  /** Absolute, symlink-free host path of the container's root. */
  readonly rootfs: string;
  /** fd (in the container process) of the rootfs bind mount, opened O_PATH. */
  readonly rootFd: number;
  /** True when the container runs in a user namespace: new, joined, or the one tsrun runs in. */
  readonly userns: boolean;
  /** True when the container gets a new network namespace. */
  readonly newNetwork: boolean;
  /** uid/gid (host values as seen inside the container) that own created device nodes. */
  readonly owner: { uid: number; gid: number };
  /** The host's mount table, to learn the flags a bind mount inherits. */
  readonly hostMounts: readonly MountInfoEntry[];
  /** linux.mountLabel, checked against the loaded SELinux policy; undefined without one. */
  readonly mountLabel?: string;
  /**
   * On a cgroup v1 host: the container's cgroup directory in each hierarchy
   * (the driver's plan), which a "cgroup" mount shows; undefined on cgroup v2.
   */
  readonly cgroupV1Dirs?: Readonly<Record<string, string>>;
  /**
   * On a cgroup v2 host, for a container in a user namespace without a
   * cgroup namespace or a network namespace of its own: its cgroup2
   * directory, which a "cgroup" mount binds (a new cgroup2 mount there is
   * EPERM, or EBUSY over the host's /sys).
   */
  readonly cgroupV2Bind?: string;
  readonly writer: ChainWriter;
}
