import type { LinuxDeviceCgroup } from '../../config/types.js';

/**
 * The device cgroup's rule semantics, as tsrun enforces them on cgroup v2.
 *
 * A request is (type, major, minor, access): the kernel asks "may this task
 * mknod / open for reading and/or writing this block or char device?", with
 * one or more access bits set at once (an O_RDWR open asks for read|write).
 *
 * The effective list is evaluated per access bit, and the later rule wins:
 *   - walk the rules from the last to the first;
 *   - a rule concerns the request when its type ('a' = any), major and minor
 *     ('*' = any) match the device, each field on its own as the spec reads
 *     (runc takes any 'a' rule for "all devices", whatever its numbers);
 *   - the first such rule that names a still-undecided bit decides that bit:
 *     a deny rule that names any undecided bit denies the whole request; an
 *     allow rule marks the bits it names as allowed;
 *   - the request is allowed once all its bits are allowed, and denied if a
 *     bit is still undecided when the walk has passed the first rule.
 *
 * On the usual lists (deny all, then rwm allow rules) this answers as runc and
 * crun do. It differs where access is partial: [allow a rwm, deny c 1:3 w]
 * denies an O_RDWR open of 1:3, as cgroup v1 did (the v2 programs of runc and
 * crun only let a rule match when the request lies within its access, so they
 * skip that deny rule and allow the open); [deny a, allow c 1:3 r,
 * allow c 1:3 w] allows it, each bit having its rule. runc refuses "holes" in
 * wildcard rules (allow c *:* then deny c 1:3); a BPF program can express them
 * exactly, so tsrun accepts them.
 *
 * The effective list is [deny all] + the spec's rules + DEFAULT_ALLOWED_DEVICES,
 * the defaults last as runc and crun put them: a config cannot deny /dev/null.
 */

/** Access bits, with the kernel's values (BPF_DEVCG_ACC_* in linux/bpf.h). */
export const ACCESS = { MKNOD: 1, READ: 2, WRITE: 4 } as const;
export const ALL_ACCESS = ACCESS.MKNOD | ACCESS.READ | ACCESS.WRITE;

export type Wildcard = '*';

/** One rule, normalised: access is a bit mask, absent numbers are '*'. */
export interface DeviceRule {
  readonly allow: boolean;
  readonly type: 'a' | 'b' | 'c';
  readonly major: number | Wildcard;
  readonly minor: number | Wildcard;
  readonly access: number;
}

/** What the kernel asks about (access is never empty). */
export interface DeviceRequest {
  readonly type: 'b' | 'c';
  readonly major: number;
  readonly minor: number;
  readonly access: number;
}

const DENY_ALL: DeviceRule = { allow: false, type: 'a', major: '*', minor: '*', access: ALL_ACCESS };

const char = (major: number, minor: number | Wildcard): DeviceRule => ({ allow: true, type: 'c', major, minor, access: ALL_ACCESS });

/**
 * Devices every container may use, whatever its config says.
 *
 * - mknod of any char or block device (c *:* m, b *:* m): runc and crun grant
 *   it, and images run package scripts that create nodes; creating a node
 *   grants nothing, opening it is still checked.
 * - The runtime-spec's default devices: null 1:3, zero 1:5, full 1:7,
 *   random 1:8, urandom 1:9, tty 5:0.
 * - /dev/ptmx 5:2 and the pty slaves 136:*, for the container's devpts.
 * - tun 10:200: runc dropped it in 1.2.0-rc1 and put it back after the
 *   regressions (VPN clients, slirp); crun has it too. Creating an interface
 *   still needs CAP_NET_ADMIN in the container's network namespace.
 *
 * Not /dev/console 5:1 (crun grants it, current runc does not): with a
 * terminal, /dev/console is a bind mount of the container's pty slave (136:N,
 * covered above); 5:1 is the host's console, and with mknod granted a
 * container could make a node for it and write to it.
 */
export const DEFAULT_ALLOWED_DEVICES: readonly DeviceRule[] = [
  { allow: true, type: 'c', major: '*', minor: '*', access: ACCESS.MKNOD },
  { allow: true, type: 'b', major: '*', minor: '*', access: ACCESS.MKNOD },
  char(1, 3),
  char(1, 5),
  char(1, 7),
  char(1, 8),
  char(1, 9),
  char(5, 0),
  char(5, 2),
  char(136, '*'),
  char(10, 200),
];

/** The ordered list to enforce for linux.resources.devices (see the semantics above). */
export function effectiveDeviceRules(spec: readonly LinuxDeviceCgroup[] | undefined): DeviceRule[] {
  return [DENY_ALL, ...(spec ?? []).map(normaliseRule), ...DEFAULT_ALLOWED_DEVICES];
}

/** The decision the semantics above give for one request; the BPF program must agree. */
export function decide(rules: readonly DeviceRule[], request: DeviceRequest): boolean {
  let undecided = request.access;
  for (let i = rules.length - 1; i >= 0; i--) {
    const rule = rules[i];
    if (rule === undefined || !concerns(rule, request) || (rule.access & undecided) === 0) continue;
    if (!rule.allow) return false;
    undecided &= ~rule.access;
    if (undecided === 0) return true;
  }
  return false;
}

function concerns(rule: DeviceRule, request: DeviceRequest): boolean {
  return (
    (rule.type === 'a' || rule.type === request.type) &&
    (rule.major === '*' || rule.major === request.major) &&
    (rule.minor === '*' || rule.minor === request.minor)
  );
}

// dev_t keeps 12 bits of major and 20 of minor (MAJOR/MINOR in linux/kdev_t.h);
// a larger number names no device and would not fit the program's immediates.
const MAX_MAJOR = 0xfff;
const MAX_MINOR = 0xfffff;

function normaliseRule(rule: LinuxDeviceCgroup, index: number): DeviceRule {
  const where = `linux.resources.devices[${index}]`;
  // Like runc: a rule without access is more likely a mistake than "rwm" or "nothing".
  if (rule.access === undefined || rule.access === '') {
    throw new Error(`${where}.access: must name at least one of r, w, m`);
  }
  return {
    allow: rule.allow,
    type: rule.type ?? 'a',
    major: deviceNumber(rule.major, MAX_MAJOR, `${where}.major`),
    minor: deviceNumber(rule.minor, MAX_MINOR, `${where}.minor`),
    access: parseAccess(rule.access, `${where}.access`),
  };
}

function deviceNumber(value: number | undefined, max: number, where: string): number | Wildcard {
  if (value === undefined || value === -1) return '*';
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new Error(`${where}: ${value} is not a device number (0-${max}, or -1 for any)`);
  }
  return value;
}

function parseAccess(access: string, where: string): number {
  let bits = 0;
  for (const letter of access) {
    if (letter === 'r') bits |= ACCESS.READ;
    else if (letter === 'w') bits |= ACCESS.WRITE;
    else if (letter === 'm') bits |= ACCESS.MKNOD;
    else throw new Error(`${where}: "${access}" may only contain r, w and m`);
  }
  return bits;
}
