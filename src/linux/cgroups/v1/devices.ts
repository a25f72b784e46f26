import type { LinuxDeviceCgroup } from '../../../config/types.js';
import { ACCESS, ALL_ACCESS, effectiveDeviceRules, type DeviceRule } from '../device-rules.js';
import { DEVICES_FIELD } from '../manager.js';
import { cgroupWrite } from '../v2/resources/cgroup-write.js';
import { UNIFIED } from './paths.js';
import type { PlacedWrite, Targets } from './resources/plan.js';

/**
 * How the container's device rules are enforced: by the v1 devices
 * controller where a hierarchy carries it (on a hybrid host too, as runc
 * does), else by the v2 driver's BPF program on the container's cgroup2
 * directory (a hybrid host without a v1 devices hierarchy).
 */
export type DevicePlan =
  | { readonly kind: 'files'; readonly writes: readonly PlacedWrite[] }
  | { readonly kind: 'program'; readonly hierarchy: string }
  | { readonly kind: 'none' };

/**
 * The device rules as devices.deny and devices.allow writes, in order,
 * from the effective list (deny all, the config's rules, the default
 * devices: see device-rules.ts). The first write, deny "a", also drops
 * the exceptions the new cgroup inherited from its parent.
 *
 * The v1 controller reads a rule of type "a" as "every device, every
 * access", whatever its numbers and access letters. A rule the config
 * narrows (type a with a major, minor or fewer letters) is written as the
 * same rule for char and block devices instead, which keeps it as narrow
 * as it was asked.
 */
export function planDevices(
  rules: readonly LinuxDeviceCgroup[] | undefined,
  targets: Targets,
  problems: string[],
  ignored: string[],
): DevicePlan {
  let effective: DeviceRule[];
  try {
    effective = effectiveDeviceRules(rules);
  } catch (error) {
    problems.push((error as Error).message);
    return { kind: 'none' };
  }
  const hierarchy = targets.v1.get('devices');
  if (hierarchy !== undefined) {
    const given = rules?.length ?? 0;
    const writes = effective.flatMap((rule, index) => {
      const field = index === 0 ? DEVICES_FIELD : index <= given ? `${DEVICES_FIELD}[${index - 1}]` : `${DEVICES_FIELD} (the default devices)`;
      return deviceLines(rule).map((line) => ({ hierarchy, write: cgroupWrite(rule.allow ? 'devices.allow' : 'devices.deny', line, field) }));
    });
    return { kind: 'files', writes };
  }
  if (targets.unified !== undefined) return { kind: 'program', hierarchy: UNIFIED };
  if ((rules ?? []).length > 0) {
    problems.push(`${DEVICES_FIELD} needs the cgroup v1 devices controller, which no hierarchy on this host carries; remove the rules, or mount it (mount -t cgroup -o devices cgroup /sys/fs/cgroup/devices)`);
  } else {
    ignored.push(`${DEVICES_FIELD}: no devices cgroup on this host, so the container may open any device node it can reach (mount the v1 devices controller to restrict them)`);
  }
  return { kind: 'none' };
}

/** One rule in the devices.allow / devices.deny syntax: "a", or "<c|b> <major|*>:<minor|*> <rwm>". */
export function deviceLines(rule: DeviceRule): string[] {
  if (rule.type === 'a' && rule.major === '*' && rule.minor === '*' && rule.access === ALL_ACCESS) return ['a'];
  const types = rule.type === 'a' ? (['c', 'b'] as const) : [rule.type];
  return types.map((type) => `${type} ${rule.major}:${rule.minor} ${accessLetters(rule.access)}`);
}

function accessLetters(access: number): string {
  return `${access & ACCESS.READ ? 'r' : ''}${access & ACCESS.WRITE ? 'w' : ''}${access & ACCESS.MKNOD ? 'm' : ''}`;
}
