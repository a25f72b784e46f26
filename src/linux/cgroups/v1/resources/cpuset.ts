import type { LinuxCPU } from '../../../../config/types.js';
import { cgroupWrite, type Planned } from '../../v2/resources/cgroup-write.js';

/**
 * linux.resources.cpu.cpus and .mems → cpuset.cpus and cpuset.mems, as
 * given: the kernel parses the list syntax and refuses CPUs or nodes the
 * parent lacks. An empty string means "not set", as in runc. These two are
 * written before the process joins (see cpuset-inherit.ts): on cgroup v1 a
 * cpuset without CPUs or nodes takes no process.
 */
export function planCpuset(cpu: LinuxCPU | undefined, p: Planned): void {
  if (cpu?.cpus !== undefined && cpu.cpus !== '') p.writes.push(cgroupWrite('cpuset.cpus', cpu.cpus, 'linux.resources.cpu.cpus'));
  if (cpu?.mems !== undefined && cpu.mems !== '') p.writes.push(cgroupWrite('cpuset.mems', cpu.mems, 'linux.resources.cpu.mems'));
}
