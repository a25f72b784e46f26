import type { LinuxResources } from '../../../../config/types.js';
import { emptyPlan, type CgroupWrite } from './cgroup-write.js';
import { planCpu } from './cpu.js';
import { planCpuset } from './cpuset.js';
import { planHugetlb } from './hugetlb.js';
import { planIo } from './io.js';
import { planMemory } from './memory.js';
import { planNetwork } from './network.js';
import { planPids } from './pids.js';
import { planRdma } from './rdma.js';
import { planUnified } from './unified.js';

/** What linux.resources asks of the container's cgroup v2 directory. */
export interface ResourcePlan {
  /** In the order they must be made. */
  readonly writes: readonly CgroupWrite[];
  /** Fields left aside on purpose, each with why: to be logged as warnings. */
  readonly ignored: readonly string[];
}

/**
 * Turn linux.resources into cgroup v2 file writes, without touching the
 * host, so that a config cgroup v2 cannot honour fails before anything is
 * created. Every such field is reported at once, one line each. Device
 * rules are not files: device-cgroup.ts attaches them as a BPF program.
 *
 * The order is runc's (pids, memory, io, cpu, cpuset, hugetlb, rdma), with
 * `unified` last so that it overrides.
 */
export function planResources(resources: LinuxResources | undefined): ResourcePlan {
  const plan = emptyPlan();
  if (resources !== undefined) {
    planPids(resources.pids, plan);
    planMemory(resources.memory, plan);
    planIo(resources.blockIO, plan);
    planCpu(resources.cpu, plan);
    planCpuset(resources.cpu, plan);
    planHugetlb(resources.hugepageLimits, plan);
    planRdma(resources.rdma, plan);
    planNetwork(resources.network, plan);
    planUnified(resources.unified, plan);
  }
  if (plan.problems.length > 0) throw new Error(plan.problems.join('\n'));
  return { writes: plan.writes, ignored: plan.ignored };
}

/** The fields a plan needs a cgroup for: all but those asking for what every new cgroup has. */
export function requestedFields(writes: readonly CgroupWrite[]): string[] {
  return [...new Set(writes.filter((w) => w.kernelDefault !== true).map((w) => w.field))];
}
