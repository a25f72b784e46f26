import type { HostKernel } from '../../../ffi/host-kernel.js';
import { isDenied } from '../../../ffi/syscall-error.js';
import type { LinuxResources } from '../../config/types.js';
import type { CgroupStats } from './cgroup-stats.js';
import { cgroupLayout, type CgroupLayout } from './layout.js';
import { v1Driver } from './v1/driver.js';
import { v2Driver } from './v2/driver.js';
import { systemdInstance, type SystemdInstance } from './systemd/manager-instance.js';
import type { SystemdScope } from './systemd/scope.js';

/**
 * Where a container's cgroups are, as state.json keeps them: enough for
 * any later command to reopen them with openCgroup.
 */
export interface CgroupPlacement {
  /** Which driver made them: 2 on a cgroup2-only host, 1 where v1 hierarchies hold the controllers. */
  readonly version: 1 | 2;
  /**
   * The container's cgroup directory in each hierarchy, keyed by the
   * hierarchy's name in /proc/<pid>/cgroup: "" for cgroup2, "memory",
   * "cpu,cpuacct", "name=systemd", ... for v1.
   */
  readonly dirs: Readonly<Record<string, string>>;
  /** Parent directories that create made, deepest first: destroy removes them when empty. */
  readonly createdParents: readonly string[];
  /** The systemd driver: the transient scope unit systemd made the cgroup as ("tsrun-web.scope"), and where that systemd listens. */
  readonly systemd?: SystemdScope;
}

/** What a container asks of its cgroups at create. */
export interface CgroupRequest {
  readonly id: string;
  /** linux.cgroupsPath */
  readonly cgroupsPath: string | undefined;
  readonly resources: LinuxResources | undefined;
  /** --systemd-cgroup: cgroupsPath is slice:prefix:name. */
  readonly systemd: boolean;
  /**
   * The systemd driver (set by planCgroup where systemd runs): this systemd
   * makes the cgroup, a transient scope with the process in it, at
   * `prepare`; create then checks that it is there instead of making it.
   */
  readonly bySystemd?: SystemdInstance;
  /**
   * Set by planCgroup for an unprivileged caller (rootless). Device rules
   * it cannot load into a cgroup it was given (cgroup v2's BPF program
   * needs CAP_BPF) are left out, as runc leaves them: the devices such a
   * caller reaches are only those its user may open anyway.
   */
  readonly rootless?: boolean;
}

/**
 * A container's cgroups before they exist: planned and checked when create
 * starts, so that a config this host cannot honour fails before anything
 * exists and leaves nothing behind.
 */
export interface PlannedCgroup {
  /** Which driver planned them, and the container's directory in each hierarchy (as CgroupPlacement has them). */
  readonly version: 1 | 2;
  readonly dirs: Readonly<Record<string, string>>;
  /** Fields left aside on purpose, each with why: for the caller to log as warnings. */
  readonly ignored: readonly string[];
  /** The config fields only a cgroup can honour (limits that are not kernel defaults, device rules). */
  readonly requested: readonly string[];
  /** The systemd driver: systemd makes the cgroup at prepare (or create fails). */
  readonly bySystemd: boolean;
  /**
   * What must happen before create, and may wait: with the systemd driver,
   * systemd starts the scope with `pid` in it. The process waits meanwhile.
   */
  prepare(pid: number): Promise<void>;
  /**
   * Create the cgroups and move `pid` into each. Called while the process
   * waits at its first checkpoint. On failure, removes what it made.
   */
  create(pid: number): ContainerCgroup;
  /**
   * Set the device rules and the limits in the cgroups create made, before
   * the process goes on: no user code runs before its limits are in place.
   * A failure leaves the cgroups for the caller to destroy once it has
   * stopped the process.
   */
  applyLimits(): void;
}

/** A container's existing cgroups: every command that touches them goes through this. */
export interface ContainerCgroup {
  readonly placement: CgroupPlacement;
  /** Move one more process in (exec, startContainer hooks). */
  join(pid: number): void;
  /**
   * Check and write a container's whole new resources (device rules
   * excepted); `changed` is the part the caller changed, checked against
   * the current usage where the spec asks. Returns fields left aside.
   */
  update(resources: LinuxResources, changed: LinuxResources): Promise<readonly string[]>;
  /** Freeze (pause) or thaw (resume) every process, and wait until the kernel says it is done. */
  setFrozen(frozen: boolean): Promise<void>;
  isFrozen(): boolean;
  /** runc's stats shape (`events --stats`). */
  stats(): CgroupStats;
  /** How many processes the kernel's OOM killer has killed in the container so far. */
  oomKills(): number;
  /**
   * Call `onEvent` whenever the kernel reports an OOM event in the
   * container's memory cgroup (v1: an eventfd on memory.oom_control; v2:
   * inotify on memory.events), until the returned function is called. An
   * event may come without a new kill: compare oomKills().
   */
  watchOoms(onEvent: () => void): () => void;
  /** Every pid of the container's cgroup trees. */
  pids(): number[];
  /** Signal every process once; returns warnings for processes that could not be signalled. */
  signal(signal: number): string[];
  /** SIGKILL what is left, then remove the cgroups and the parents create made. Returns warnings. */
  destroy(): Promise<string[]>;
}

/** One way of driving cgroups: v2 (cgroup2 alone) or v1 (v1 hierarchies, with or without cgroup2 beside them). */
export interface CgroupDriver {
  /** Plan and check `request` for this host; throws, naming the field, what the host cannot do. */
  plan(kernel: HostKernel, request: CgroupRequest, layout: CgroupLayout): PlannedCgroup;
  open(kernel: HostKernel, placement: CgroupPlacement): ContainerCgroup;
}

/** The driver for this host's layout: v2 on a cgroup2-only host, v1 on a hybrid or legacy one. */
export function driverFor(layout: CgroupLayout): CgroupDriver {
  return layout.kind === 'unified' ? v2Driver : v1Driver;
}

/**
 * Plan the container's cgroups. An unprivileged caller (rootless) may have
 * no cgroup delegated to it; like runc, its container then runs without
 * one (create returns undefined), unless the config asks for something only
 * a cgroup can give, which is never silently dropped.
 */
export function planCgroup(
  kernel: HostKernel,
  request: CgroupRequest,
  privileged: boolean,
  layout: CgroupLayout = cgroupLayout(),
): Omit<PlannedCgroup, 'create'> & { create(pid: number): ContainerCgroup | undefined } {
  const instance = request.systemd ? systemdFor(layout, privileged) : undefined;
  const withoutSystemd = typeof instance === 'string' ? instance : undefined;
  const planned = driverFor(layout).plan(kernel, { ...request, rootless: !privileged, ...(typeof instance === 'object' ? { bySystemd: instance } : {}) }, layout);
  return {
    version: planned.version,
    dirs: planned.dirs,
    ignored:
      withoutSystemd === undefined
        ? planned.ignored
        : [`--systemd-cgroup: ${withoutSystemd}; tsrun makes the cgroup itself, at the path systemd would give it`, ...planned.ignored],
    requested: planned.requested,
    bySystemd: planned.bySystemd,
    prepare: (pid) => planned.prepare(pid),
    applyLimits: () => planned.applyLimits(),
    create(pid) {
      try {
        return planned.create(pid);
      } catch (error) {
        if (privileged || !isDenied(error)) throw error;
        if (planned.requested.includes(DEVICES_FIELD)) {
          throw new Error(`${error.message}: ${DEVICES_FIELD} needs a cgroup, and none is delegated to this user; remove the device rules or delegate a cgroup`);
        }
        const limits = planned.requested;
        if (limits.length > 0) {
          throw new Error(`${error.message}: ${limits.join(', ')} ${limits.length > 1 ? 'need' : 'needs'} a cgroup, and none is delegated to this user; remove the limits or delegate a cgroup`);
        }
        return undefined;
      }
    },
  };
}

export const DEVICES_FIELD = 'linux.resources.devices';

/**
 * The systemd that makes the container's scope, or why none can: systemd
 * must run this host's cgroup v2 tree (PID 1 for root, the caller's user
 * instance otherwise).
 */
function systemdFor(layout: CgroupLayout, privileged: boolean): SystemdInstance | string {
  if (layout.kind !== 'unified' || layout.unified === undefined) return 'the systemd driver works on a cgroup v2 host only, and this one has cgroup v1 hierarchies';
  return systemdInstance(privileged, layout.unified.mountPoint);
}

/** The cgroups a container was given at create, for any later command. */
export function openCgroup(kernel: HostKernel, placement: CgroupPlacement): ContainerCgroup {
  return (placement.version === 2 ? v2Driver : v1Driver).open(kernel, placement);
}
