import type { LinuxCPU } from '../../../../config/types.js';
import { cgroupWrite, type Planned } from './cgroup-write.js';

/**
 * linux.resources.cpu.cpus and .mems → cpuset.cpus and cpuset.mems, as
 * given (the kernel parses the list syntax and refuses CPUs or nodes the
 * parent does not have). An empty string means "not set", as in runc.
 */
export function planCpuset(cpu: LinuxCPU | undefined, p: Planned): void {
  if (cpu?.cpus !== undefined && cpu.cpus !== '') p.writes.push(cgroupWrite('cpuset.cpus', cpu.cpus, 'linux.resources.cpu.cpus'));
  if (cpu?.mems !== undefined && cpu.mems !== '') p.writes.push(cgroupWrite('cpuset.mems', cpu.mems, 'linux.resources.cpu.mems'));
}
