import type { LinuxCPU } from '../../../../config/types.js';
import { cgroupWrite, type Planned } from './cgroup-write.js';

const FIELD = 'linux.resources.cpu';
/** cpu.max's period when the config gives none: the kernel's default (cgroup-v2.rst). */
const DEFAULT_PERIOD_US = 100_000;
/** cpu.shares of a new cgroup v1 cgroup, and the value containerd and Docker send. */
const DEFAULT_SHARES = 1024;

/**
 * linux.resources.cpu on cgroup v2 (cpus and mems are cpuset.ts's):
 * idle → cpu.idle, shares → cpu.weight, quota and period → cpu.max
 * ("<quota|max> <period>"), burst → cpu.max.burst. As in runc, 0 means
 * "not set" for shares, quota and period, and a quota of -1 alone still
 * writes "max <period>" (crun writes cpu.max only for a positive quota or
 * period; we follow runc). Written in runc's order: idle before the weight
 * (an idle cgroup refuses a weight), the burst around cpu.max (see below).
 */
export function planCpu(cpu: LinuxCPU | undefined, p: Planned): void {
  if (cpu === undefined) return;
  if (cpu.idle !== undefined) p.writes.push(cgroupWrite('cpu.idle', String(cpu.idle), `${FIELD}.idle`));
  if (cpu.shares !== undefined && cpu.shares !== 0) {
    p.writes.push(
      cgroupWrite('cpu.weight', String(sharesToWeight(cpu.shares)), `${FIELD}.shares`, cpu.shares === DEFAULT_SHARES ? { kernelDefault: true } : {}),
    );
  }
  const quota = cpu.quota ?? 0;
  const period = cpu.period ?? 0;
  const max = quota !== 0 || period !== 0 ? `${quota > 0 ? quota : 'max'} ${period === 0 ? DEFAULT_PERIOD_US : period}` : undefined;
  let burst = cpu.burst;
  if (burst !== undefined && quota > 0 && burst > quota) {
    p.problems.push(`${FIELD}.burst: ${burst} is larger than ${FIELD}.quota (${quota}); the runtime-spec requires burst <= quota`);
    burst = undefined;
  }
  // The kernel keeps burst <= quota at every write: lowering both needs the
  // burst first, raising both needs the quota first. So with cpu.max, the
  // burst is tried before it (EINVAL then only means "too early") and
  // written again after it.
  if (burst !== undefined) {
    p.writes.push(cgroupWrite('cpu.max.burst', String(burst), `${FIELD}.burst`, max === undefined ? {} : { tolerate: ['EINVAL'] }));
  }
  if (max !== undefined) {
    p.writes.push(cgroupWrite('cpu.max', max, quota !== 0 ? `${FIELD}.quota` : `${FIELD}.period`));
    if (burst !== undefined) p.writes.push(cgroupWrite('cpu.max.burst', String(burst), `${FIELD}.burst`));
  }
  // cgroup v2 has no real-time bandwidth control (cpu.rt_* are v1 files);
  // runc skips these fields there without a word, crun refuses them, and so
  // does the runtime-spec for a v1 setting that cannot be converted.
  for (const name of ['realtimeRuntime', 'realtimePeriod'] as const) {
    if ((cpu[name] ?? 0) !== 0) {
      p.problems.push(`${FIELD}.${name}: cgroup v2 has no real-time CPU bandwidth control; remove the field`);
    }
  }
}

/**
 * cpu.weight (1..10000, default 100) from cgroup v1's cpu.shares (2..262144,
 * default 1024). The mapping used by runc and crun today: 10 to the power of
 * a quadratic in log2(shares), fitted so that both ends and both defaults
 * meet (2 → 1, 1024 → 100, 262144 → 10000), rounded up. (runc before 1.4
 * used a straight line, which gave 1024 → 39.)
 */
export function sharesToWeight(shares: number): number {
  if (shares <= 2) return 1;
  if (shares >= 262_144) return 10_000;
  const l = Math.log2(shares);
  return Math.ceil(10 ** ((l * l + 125 * l) / 612 - 7 / 34));
}
