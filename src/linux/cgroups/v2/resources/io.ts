import type { LinuxBlockIO, LinuxThrottleDevice } from '../../../../config/types.js';
import { cgroupWrite, type Planned } from './cgroup-write.js';

const FIELD = 'linux.resources.blockIO';

/** The spec's throttle lists and the io.max key each one sets. */
const THROTTLES = [
  ['throttleReadBpsDevice', 'rbps'],
  ['throttleWriteBpsDevice', 'wbps'],
  ['throttleReadIOPSDevice', 'riops'],
  ['throttleWriteIOPSDevice', 'wiops'],
] as const;

/**
 * linux.resources.blockIO on cgroup v2's io controller.
 *
 * Weights go to io.bfq.weight when the BFQ scheduler is there (same 1..1000
 * scale as blkio's 10..1000, written as is), otherwise to io.weight
 * (1..10000, converted). That holds for per-device weights too
 * ("MAJ:MIN WEIGHT" lines): runc writes those only to a BFQ that takes
 * them and silently drops them otherwise; crun insists on BFQ. Falling back
 * to io.weight, whose per-device lines the io.cost controller honours,
 * enforces what was asked wherever the kernel can.
 *
 * Throttles become one io.max line per device, "MAJ:MIN rbps=N wiops=N",
 * with every limit that device has (runc and crun write one line per
 * limit; the kernel keeps the keys a line does not name, so the result is
 * the same). leafWeight exists only in cgroup v1's CFQ and is refused.
 */
export function planIo(blockIO: LinuxBlockIO | undefined, p: Planned): void {
  if (blockIO === undefined) return;
  if (blockIO.weight !== undefined && blockIO.weight !== 0) {
    if (validWeight(blockIO.weight, `${FIELD}.weight`, p)) {
      p.writes.push(weightWrite('', blockIO.weight, `${FIELD}.weight`));
    }
  }
  if ((blockIO.leafWeight ?? 0) !== 0) p.problems.push(leafWeightProblem(`${FIELD}.leafWeight`));
  (blockIO.weightDevice ?? []).forEach((device, index) => {
    const field = `${FIELD}.weightDevice[${index}]`;
    if ((device.leafWeight ?? 0) !== 0) p.problems.push(leafWeightProblem(`${field}.leafWeight`));
    if (device.weight !== undefined && validWeight(device.weight, `${field}.weight`, p)) {
      p.writes.push(weightWrite(`${device.major}:${device.minor} `, device.weight, field));
    }
  });
  for (const line of ioMaxLines(blockIO)) p.writes.push(cgroupWrite('io.max', line.value, line.field));
}

/**
 * cgroup v1's blkio weight (10..1000) on io.weight's scale (1..10000): the
 * straight line through 10 → 1 and 1000 → 10000, in integers, as runc and
 * crun compute it.
 */
export function blkioToIoWeight(weight: number): number {
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

function weightWrite(device: string, weight: number, field: string) {
  return cgroupWrite('io.bfq.weight', `${device}${weight}`, field, {
    fallback: cgroupWrite('io.weight', `${device}${blkioToIoWeight(weight)}`, field),
  });
}

function validWeight(weight: number, field: string, p: Planned): boolean {
  if (weight >= 10 && weight <= 1000) return true;
  p.problems.push(`${field}: ${weight} is outside blkio's weight range 10..1000`);
  return false;
}

function leafWeightProblem(field: string): string {
  return `${field}: cgroup v2 has no leaf weights (they belonged to cgroup v1's CFQ scheduler); remove the field`;
}

/** One io.max line per device, in the order the devices first appear. */
function ioMaxLines(blockIO: LinuxBlockIO): Array<{ value: string; field: string }> {
  const devices = new Map<string, { limits: string[]; fields: string[] }>();
  for (const [list, key] of THROTTLES) {
    (blockIO[list] ?? []).forEach((throttle: LinuxThrottleDevice, index) => {
      const device = `${throttle.major}:${throttle.minor}`;
      const entry = devices.get(device) ?? { limits: [], fields: [] };
      entry.limits.push(`${key}=${throttle.rate}`);
      entry.fields.push(`${FIELD}.${list}[${index}]`);
      devices.set(device, entry);
    });
  }
  return [...devices].map(([device, { limits, fields }]) => ({ value: `${device} ${limits.join(' ')}`, field: fields.join(', ') }));
}
