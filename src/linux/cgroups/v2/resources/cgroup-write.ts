/**
 * One write into a file of the container's cgroup, planned from
 * linux.resources. The planners in this directory turn the spec's fields
 * (shaped after cgroup v1) into these, without touching the host; applying
 * them is apply-resources.ts.
 */
export interface CgroupWrite {
  /** The cgroup v2 controller that owns the file ("memory" for memory.max); undefined for the core cgroup.* files. */
  readonly controller: string | undefined;
  readonly file: string;
  readonly value: string;
  /** The config field the value comes from, named in every error: "linux.resources.memory.limit". */
  readonly field: string;
  /** errno names that mean "nothing to do" for this write; each planner says why. */
  readonly tolerate?: readonly string[];
  /** Written instead when the kernel has no such file (ENOENT). */
  readonly fallback?: CgroupWrite;
  /**
   * The value every new cgroup already has. On a host without the
   * controller, asking for it is met by doing nothing (containerd and Docker
   * send cpu.shares 1024 with every container).
   */
  readonly kernelDefault?: boolean;
}

type WriteOptions = Pick<CgroupWrite, 'tolerate' | 'fallback' | 'kernelDefault'>;

/** A write to `file`, owned by the controller its name starts with. */
export function cgroupWrite(file: string, value: string, field: string, options: WriteOptions = {}): CgroupWrite {
  const prefix = file.slice(0, file.indexOf('.'));
  return { controller: prefix === 'cgroup' ? undefined : prefix, file, value, field, ...options };
}

/** What the planners collect while reading one LinuxResources. */
export interface Planned {
  readonly writes: CgroupWrite[];
  /** One line per field cgroup v2 cannot honour: the field, why, and what to do. */
  readonly problems: string[];
  /** Fields left aside on purpose, each with why: the caller logs them as warnings. */
  readonly ignored: string[];
}

export function emptyPlan(): Planned {
  return { writes: [], problems: [], ignored: [] };
}

/**
 * The spec's byte and count limits use -1 for "unlimited", which cgroup v2
 * files spell "max".
 */
export function limitValue(n: number): string {
  return n === -1 ? 'max' : String(n);
}
