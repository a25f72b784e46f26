import type { LinuxCPU } from '../../../../config/types.js';
import { cgroupWrite, type CgroupWrite, type Planned } from '../../v2/resources/cgroup-write.js';

const FIELD = 'linux.resources.cpu';
/** cpu.shares of a new cgroup, and the value containerd and Docker send with every container. */
const DEFAULT_SHARES = 1024;
// The kernel clamps cpu.shares into this range without a word (MIN_SHARES
// and MAX_SHARES in kernel/sched); runc reads the value back to notice.
// Checked here instead, before anything exists.
const MIN_SHARES = 2;
const MAX_SHARES = 262_144;

/**
 * linux.resources.cpu on cgroup v1's cpu controller (cpus and mems are
 * cpuset.ts's): idle → cpu.idle, shares → cpu.shares, quota and period →
 * cpu.cfs_quota_us and cpu.cfs_period_us, burst → cpu.cfs_burst_us,
 * realtimeRuntime and realtimePeriod → cpu.rt_runtime_us and
 * cpu.rt_period_us. As in runc, 0 means "not set" for all but idle and
 * burst, and -1 is a quota of "no limit".
 *
 * Pairs the kernel checks against each other at every write (the period
 * against the quota and the parent's bandwidth, the burst against the
 * quota, the real-time period against the runtime) are written as runc
 * writes them: the first one is tried, an EINVAL then only meaning "too
 * early", and written again after its partner.
 */
export function planCpu(cpu: LinuxCPU | undefined, p: Planned): void {
  if (cpu === undefined) return;
  // An idle cgroup refuses a weight (EINVAL), and its weight does not
  // count anyway: idle first, then shares may fail only for an idle group.
  const idle = cpu.idle;
  if (idle !== undefined) p.writes.push(cgroupWrite('cpu.idle', String(idle), `${FIELD}.idle`));
  const shares = cpu.shares ?? 0;
  if (shares !== 0) {
    if (shares < MIN_SHARES || shares > MAX_SHARES) {
      p.problems.push(`${FIELD}.shares: ${shares} is outside the kernel's range ${MIN_SHARES}..${MAX_SHARES}`);
    } else {
      p.writes.push(
        cgroupWrite('cpu.shares', String(shares), `${FIELD}.shares`, {
          ...(shares === DEFAULT_SHARES ? { kernelDefault: true } : {}),
          ...(idle !== undefined && idle !== 0 ? { tolerate: ['EINVAL'] } : {}),
        }),
      );
    }
  }
  planBandwidth(cpu, p);
  planRealtime(cpu, p);
}

function planBandwidth(cpu: LinuxCPU, p: Planned): void {
  const quota = cpu.quota ?? 0;
  const period = cpu.period ?? 0;
  const burst = cpu.burst;
  if (quota < -1) p.problems.push(`${FIELD}.quota: ${quota} is not a quota; give microseconds, or -1 for no limit`);
  if (quota > 0 && burst !== undefined && burst > quota) {
    p.problems.push(`${FIELD}.burst: ${burst} is larger than ${FIELD}.quota (${quota}); the runtime-spec requires burst <= quota`);
    return;
  }
  const withQuota = quota !== 0;
  const periodWrite = (tolerate: string[]) => cgroupWrite('cpu.cfs_period_us', String(period), `${FIELD}.period`, { tolerate });
  // cpu.cfs_burst_us came with Linux 5.14; runc then drops the burst, which is
  // fine for 0 (no burst) and an error otherwise.
  const burstWrite = (tolerate: string[]): CgroupWrite =>
    cgroupWrite('cpu.cfs_burst_us', String(burst), `${FIELD}.burst`, { tolerate: [...tolerate, ...(burst === 0 ? ['ENOENT'] : [])] });
  if (period !== 0) p.writes.push(periodWrite(withQuota ? ['EINVAL'] : []));
  if (burst !== undefined) p.writes.push(burstWrite(withQuota ? ['EINVAL'] : []));
  if (withQuota) {
    p.writes.push(cgroupWrite('cpu.cfs_quota_us', String(quota), `${FIELD}.quota`, quota === -1 ? { kernelDefault: true } : {}));
    if (period !== 0) p.writes.push(periodWrite([]));
    if (burst !== undefined) p.writes.push(burstWrite([]));
  }
}

/**
 * Real-time bandwidth exists only on kernels built with
 * CONFIG_RT_GROUP_SCHED. A new cgroup gets a runtime of 0, so a process
 * that asks for a real-time policy needs a runtime here first.
 */
function planRealtime(cpu: LinuxCPU, p: Planned): void {
  const runtime = cpu.realtimeRuntime ?? 0;
  const period = cpu.realtimePeriod ?? 0;
  const periodWrite = (tolerate: string[]) => cgroupWrite('cpu.rt_period_us', String(period), `${FIELD}.realtimePeriod`, { tolerate });
  if (period !== 0) p.writes.push(periodWrite(runtime !== 0 ? ['EINVAL'] : []));
  if (runtime !== 0) {
    p.writes.push(cgroupWrite('cpu.rt_runtime_us', String(runtime), `${FIELD}.realtimeRuntime`));
    if (period !== 0) p.writes.push(periodWrite([]));
  }
}
