import { MAX_CPUS, type SchedulingKernel } from '../../../ffi/scheduling.js';
import { errnoName, SyscallError } from '../../../ffi/syscall-error.js';
import type { CPUAffinity } from '../../config/types.js';

/**
 * A cpu list ("0-3,7", the kernel's own format, as in cpuset.cpus) as
 * ascending CPU numbers. Empty (or only blanks) is the empty list, which
 * config.md reads as "leave the affinity alone". `field` names the config
 * field in errors.
 */
export function parseCpuList(text: string, field: string): number[] {
  if (text.trim() === '') return [];
  const cpus = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (m === null) throw new Error(`${field}: "${text}" is not a CPU list such as "0-3,7" (at "${part.trim()}")`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) throw new Error(`${field}: "${text}": the range ${from}-${to} runs backwards; write ${to}-${from}`);
    if (to >= MAX_CPUS) throw new Error(`${field}: "${text}": CPU ${to} is beyond the ${MAX_CPUS} CPUs Linux can have`);
    for (let cpu = from; cpu <= to; cpu += 1) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** Ascending CPU numbers in the list format, ranges folded: [0,1,2,3,7] -> "0-3,7". */
export function formatCpuList(cpus: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < cpus.length; ) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === (cpus[j] as number) + 1) j += 1;
    parts.push(i === j ? String(cpus[i]) : `${cpus[i]}-${cpus[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** process.execCPUAffinity parsed; an absent or empty list is undefined (nothing to change). */
export interface AffinityPlan {
  readonly initial?: readonly number[];
  readonly final?: readonly number[];
}

export function planAffinity(affinity: CPUAffinity | undefined): AffinityPlan {
  const parse = (text: string | undefined, which: 'initial' | 'final') => {
    const cpus = text === undefined ? [] : parseCpuList(text, `process.execCPUAffinity.${which}`);
    return cpus.length === 0 ? {} : { [which]: cpus };
  };
  return { ...parse(affinity?.initial, 'initial'), ...parse(affinity?.final, 'final') };
}

/**
 * sched_setaffinity(2) on the process from outside, then sched_getaffinity(2)
 * to see what the kernel made of it. The kernel keeps only the CPUs that are
 * online and allowed by the process's cpuset: a CPU it added is an error, the
 * CPUs it dropped are returned for the caller to warn about (as taskset
 * would run on what is left).
 */
export function applyAffinity(kernel: SchedulingKernel, pid: number, cpus: readonly number[], field: string): string[] {
  const list = formatCpuList(cpus);
  const errno = kernel.setAffinity(pid, cpus);
  if (errno !== 0) throw new SyscallError('sched_setaffinity', errno, `pid ${pid} (${field} "${list}")`, hint(errnoName(errno), list));
  const got = kernel.getAffinity(pid);
  const wanted = new Set(cpus);
  const extra = got.filter((cpu) => !wanted.has(cpu));
  if (extra.length > 0) {
    throw new Error(`${field}: the container process (pid ${pid}) may run on CPUs ${formatCpuList(got)} after sched_setaffinity, not only ${list}`);
  }
  const present = new Set(got);
  const missing = cpus.filter((cpu) => !present.has(cpu));
  if (missing.length === 0) return [];
  return [`${field}: CPUs ${formatCpuList(missing)} are offline or outside the process's cpuset; it runs on ${formatCpuList(got)}`];
}

function hint(errno: string, list: string): string | undefined {
  if (errno === 'EINVAL') return `none of CPUs ${list} is online and in the process's cpuset (see /sys/devices/system/cpu/online)`;
  if (errno === 'EPERM') return "setting another user's process's CPU affinity needs CAP_SYS_NICE in tsrun";
  if (errno === 'EBUSY') return "the process runs under SCHED_DEADLINE (process.scheduler), whose affinity must span its whole scheduling domain; drop one of the two";
  return undefined;
}
