import { release } from 'node:os';
import type { LinuxResources } from '../../../../config/types.js';
import { emptyPlan, type CgroupWrite, type Planned } from '../../v2/resources/cgroup-write.js';
import { planCpu as planV2Cpu } from '../../v2/resources/cpu.js';
import { planCpuset as planV2Cpuset } from '../../v2/resources/cpuset.js';
import { planHugetlb as planV2Hugetlb } from '../../v2/resources/hugetlb.js';
import { planIo as planV2Io } from '../../v2/resources/io.js';
import { planMemory as planV2Memory } from '../../v2/resources/memory.js';
import { planPids } from '../../v2/resources/pids.js';
import { planRdma } from '../../v2/resources/rdma.js';
import { planUnified } from '../../v2/resources/unified.js';
import type { HostKernel } from '../../../../../ffi/host-kernel.js';
import { hierarchyOfController, UNIFIED } from '../paths.js';
import { planBlkio } from './blkio.js';
import { planCpu } from './cpu.js';
import { planCpuset } from './cpuset.js';
import { planHugetlb } from './hugetlb.js';
import { planMemory } from './memory.js';
import { planNetClass, planNetPriority } from './network.js';

/** A write and the hierarchy (its key in CgroupPlacement.dirs) whose directory takes it. */
export interface PlacedWrite {
  readonly hierarchy: string;
  readonly write: CgroupWrite;
}

export interface V1ResourcePlan {
  /** In the order they must be made. */
  readonly writes: PlacedWrite[];
  /** One line per field this host cannot honour: the field, why, and what to do. */
  readonly problems: string[];
  /** Fields left aside on purpose, each with why: to be logged as warnings. */
  readonly ignored: string[];
}

/** Where the host can take each controller's files. */
export interface Targets {
  /** Each v1 controller and the key of the hierarchy that carries it. */
  readonly v1: ReadonlyMap<string, string>;
  /** A hybrid host's cgroup2 tree; its controllers are read only if some write needs them. */
  readonly unified: { readonly mountPoint: string; controllers(): ReadonlySet<string> } | undefined;
  /** Whether the kernel applies memory.kmem.limit_in_bytes (before Linux 6.1). */
  readonly kernelMemoryLimits: boolean;
}

/**
 * The targets of a container whose directories are `dirs`; `unifiedRoot`
 * is where a hybrid host mounts cgroup2 (its cgroup.controllers lists all
 * the tree can give).
 */
export function hostTargets(kernel: Pick<HostKernel, 'readFile'>, dirs: Readonly<Record<string, string>>, unifiedRoot: string | undefined): Targets {
  let controllers: ReadonlySet<string> | undefined;
  return {
    v1: hierarchyOfController(dirs),
    kernelMemoryLimits: appliesKernelMemoryLimits(release()),
    unified:
      unifiedRoot === undefined || dirs[UNIFIED] === undefined
        ? undefined
        : {
            mountPoint: unifiedRoot,
            controllers() {
              controllers ??= new Set(kernel.readFile(`${unifiedRoot}/cgroup.controllers`).split(/\s+/).filter((c) => c !== ''));
              return controllers;
            },
          },
  };
}

/** Linux 6.1 turned memory.kmem.limit_in_bytes into a file that takes writes and applies none. */
export function appliesKernelMemoryLimits(kernelRelease: string): boolean {
  const [major = 0, minor = 0] = kernelRelease.split(/[.-]/).map(Number);
  return major < 6 || (major === 6 && minor < 1);
}

/**
 * One controller's part of linux.resources: planned with cgroup v1's file
 * names where a v1 hierarchy carries the controller, else, on a hybrid
 * host whose cgroup2 tree has it (hugetlb here), with cgroup v2's names
 * and conversions, by the v2 driver's own planner. Named as
 * /proc/cgroups names them.
 */
interface Section {
  readonly controller: string;
  /** The cgroup v2 controller with the same role, if any (blkio's is io). */
  readonly v2?: string;
  plan(resources: LinuxResources, p: Planned, targets: Targets): void;
  planV2?(resources: LinuxResources, p: Planned): void;
}

// runc's v1 order: cpuset, memory, cpu, pids, blkio, hugetlb, net_cls, net_prio, rdma.
const SECTIONS: readonly Section[] = [
  { controller: 'cpuset', v2: 'cpuset', plan: (r, p) => planCpuset(r.cpu, p), planV2: (r, p) => planV2Cpuset(r.cpu, p) },
  { controller: 'memory', v2: 'memory', plan: (r, p, t) => planMemory(r.memory, p, t.kernelMemoryLimits), planV2: (r, p) => planV2Memory(r.memory, p) },
  { controller: 'cpu', v2: 'cpu', plan: (r, p) => planCpu(r.cpu, p), planV2: (r, p) => planV2Cpu(r.cpu, p) },
  { controller: 'pids', v2: 'pids', plan: (r, p) => planPids(r.pids, p), planV2: (r, p) => planPids(r.pids, p) },
  { controller: 'blkio', v2: 'io', plan: (r, p) => planBlkio(r.blockIO, p), planV2: (r, p) => planV2Io(r.blockIO, p) },
  { controller: 'hugetlb', v2: 'hugetlb', plan: (r, p) => planHugetlb(r.hugepageLimits, p), planV2: (r, p) => planV2Hugetlb(r.hugepageLimits, p) },
  { controller: 'net_cls', plan: (r, p) => planNetClass(r.network, p) },
  { controller: 'net_prio', plan: (r, p) => planNetPriority(r.network, p) },
  // v1's rdma.max has v2's syntax: one planner serves both.
  { controller: 'rdma', v2: 'rdma', plan: (r, p) => planRdma(r.rdma, p), planV2: (r, p) => planRdma(r.rdma, p) },
];

/**
 * Turn linux.resources (device rules excepted, see devices.ts) into file
 * writes for the container's v1 cgroups, without touching the host but to
 * read the cgroup2 tree's controllers, so that a config this host cannot
 * honour fails before anything exists. Problems are returned, not thrown:
 * the driver reports all of them at once, device rules' included.
 */
export function planV1Resources(resources: LinuxResources | undefined, targets: Targets): V1ResourcePlan {
  const plan: V1ResourcePlan = { writes: [], problems: [], ignored: [] };
  if (resources === undefined) return plan;
  for (const section of SECTIONS) planSection(section, resources, targets, plan);
  planUnifiedKeys(resources.unified, targets, plan);
  return plan;
}

function planSection(section: Section, resources: LinuxResources, targets: Targets, plan: V1ResourcePlan): void {
  const v1 = emptyPlan();
  section.plan(resources, v1, targets);
  if (v1.writes.length === 0 && v1.problems.length === 0 && v1.ignored.length === 0) return;
  const hierarchy = targets.v1.get(section.controller);
  if (hierarchy !== undefined) {
    merge(plan, v1, hierarchy);
    return;
  }
  if (section.v2 !== undefined && section.planV2 !== undefined && targets.unified?.controllers().has(section.v2) === true) {
    const v2 = emptyPlan();
    section.planV2(resources, v2);
    merge(plan, v2, UNIFIED);
    return;
  }
  // Asking for what every new cgroup has needs no controller (cpu.shares
  // 1024, sent by containerd and Docker with every container).
  const fields = [...new Set(v1.writes.filter((w) => w.kernelDefault !== true).map((w) => w.field))];
  plan.problems.push(...v1.problems);
  plan.ignored.push(...v1.ignored);
  if (fields.length > 0) plan.problems.push(missingController(section, fields, targets));
}

function merge(plan: V1ResourcePlan, planned: Planned, hierarchy: string): void {
  plan.writes.push(...planned.writes.map((write) => ({ hierarchy, write })));
  plan.problems.push(...planned.problems);
  plan.ignored.push(...planned.ignored);
}

function missingController(section: Section, fields: readonly string[], targets: Targets): string {
  const mounted = [...targets.v1.keys()].sort().join(', ') || 'none';
  const unified =
    targets.unified === undefined || section.v2 === undefined
      ? ''
      : `, nor has this host's cgroup2 tree at ${targets.unified.mountPoint} the ${section.v2} controller (it has: ${listed(targets.unified.controllers())})`;
  return (
    `${fields.join(', ')} ${fields.length > 1 ? 'need' : 'needs'} the cgroup v1 ${section.controller} controller, which no hierarchy on this host carries ` +
    `(mounted: ${mounted})${unified}; remove the field, or mount the controller (mount -t cgroup -o ${section.controller} cgroup /sys/fs/cgroup/${section.controller})`
  );
}

/**
 * linux.resources.unified names cgroup v2 files. runc refuses the whole
 * map on cgroup v1. A hybrid host does have a cgroup v2 tree, and the spec
 * asks for an error only when the key's controller is absent: so keys of
 * the controllers that tree holds (and its core cgroup.* files) are
 * written there, after every other field as on cgroup v2; the others are
 * refused, saying which v1 field to use instead.
 */
function planUnifiedKeys(unified: Readonly<Record<string, string>> | undefined, targets: Targets, plan: V1ResourcePlan): void {
  if (unified === undefined || Object.keys(unified).length === 0) return;
  const keys = emptyPlan();
  planUnified(unified, keys);
  plan.problems.push(...keys.problems);
  const refused = new Set<string>();
  for (const write of keys.writes) {
    if (refused.has(write.field)) continue;
    const problem = unifiedKeyProblem(write, targets);
    if (problem === undefined) {
      plan.writes.push({ hierarchy: UNIFIED, write });
    } else {
      refused.add(write.field);
      plan.problems.push(`${write.field}: ${problem}`);
    }
  }
}

function unifiedKeyProblem(write: CgroupWrite, targets: Targets): string | undefined {
  if (targets.unified === undefined) {
    return 'this host has cgroup v1 alone, and unified keys name cgroup v2 files; set the matching cgroup v1 field of linux.resources instead';
  }
  const controller = write.controller;
  if (controller === undefined) return undefined;
  const available = targets.unified.controllers();
  if (available.has(controller)) return undefined;
  const v1Name = controller === 'io' ? 'blkio' : controller;
  const v1Hierarchy = targets.v1.get(v1Name);
  return (
    `the ${controller} controller is not in this hybrid host's cgroup2 tree at ${targets.unified.mountPoint} (it has: ${listed(available)})` +
    (v1Hierarchy === undefined
      ? '; remove the key'
      : `; the cgroup v1 ${v1Hierarchy} hierarchy carries it: set the matching field of linux.resources instead (tsrun writes it there)`)
  );
}

function listed(controllers: ReadonlySet<string>): string {
  return [...controllers].join(' ') || 'none';
}

/** The fields a plan needs a cgroup for: all but those asking for what every new cgroup has. */
export function requestedFields(writes: readonly PlacedWrite[]): string[] {
  return [...new Set(writes.filter((w) => w.write.kernelDefault !== true).map((w) => w.write.field))];
}
