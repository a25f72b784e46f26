import type { LinuxBlockIO } from '../../../../config/types.js';
import { cgroupWrite, type CgroupWrite, type Planned } from '../../v2/resources/cgroup-write.js';

const FIELD = 'linux.resources.blockIO';

/** The spec's throttle lists and the blkio file each one writes, a device per write. */
const THROTTLES = [
  ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device'],
  ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device'],
  ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device'],
  ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device'],
] as const;

/**
 * linux.resources.blockIO on cgroup v1's blkio controller.
 *
 * Weights were CFQ's blkio.weight and blkio.weight_device. CFQ left the
 * kernel in 5.0; BFQ took the same scale (10..1000 here) in
 * blkio.bfq.weight and blkio.bfq.weight_device, which are written where
 * the CFQ files are missing, as runc does. Leaf weights existed only in
 * CFQ: they are written, and a kernel without CFQ refuses them clearly.
 */
export function planBlkio(blockIO: LinuxBlockIO | undefined, p: Planned): void {
  if (blockIO === undefined) return;
  if ((blockIO.weight ?? 0) !== 0 && validWeight(blockIO.weight ?? 0, `${FIELD}.weight`, p)) {
    p.writes.push(weightWrite('blkio.weight', 'blkio.bfq.weight', String(blockIO.weight), `${FIELD}.weight`));
  }
  if ((blockIO.leafWeight ?? 0) !== 0 && validWeight(blockIO.leafWeight ?? 0, `${FIELD}.leafWeight`, p)) {
    p.writes.push(cgroupWrite('blkio.leaf_weight', String(blockIO.leafWeight), `${FIELD}.leafWeight`));
  }
  (blockIO.weightDevice ?? []).forEach((device, index) => {
    const field = `${FIELD}.weightDevice[${index}]`;
    const id = `${device.major}:${device.minor}`;
    if ((device.weight ?? 0) !== 0 && validWeight(device.weight ?? 0, `${field}.weight`, p)) {
      p.writes.push(weightWrite('blkio.weight_device', 'blkio.bfq.weight_device', `${id} ${device.weight}`, `${field}.weight`));
    }
    if ((device.leafWeight ?? 0) !== 0 && validWeight(device.leafWeight ?? 0, `${field}.leafWeight`, p)) {
      p.writes.push(cgroupWrite('blkio.leaf_weight_device', `${id} ${device.leafWeight}`, `${field}.leafWeight`));
    }
  });
  for (const [list, file] of THROTTLES) {
    (blockIO[list] ?? []).forEach((throttle, index) => {
      p.writes.push(cgroupWrite(file, `${throttle.major}:${throttle.minor} ${throttle.rate}`, `${FIELD}.${list}[${index}]`));
    });
  }
}

function weightWrite(cfq: string, bfq: string, value: string, field: string): CgroupWrite {
  return cgroupWrite(cfq, value, field, { fallback: cgroupWrite(bfq, value, field) });
}

function validWeight(weight: number, field: string, p: Planned): boolean {
  if (weight >= 10 && weight <= 1000) return true;
  p.problems.push(`${field}: ${weight} is outside blkio's weight range 10..1000`);
  return false;
}
