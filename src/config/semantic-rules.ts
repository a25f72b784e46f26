// Rules of the runtime-spec that a JSON Schema cannot express (they relate
// several fields, or need lists of names), checked after the schema passed.
// One object per rule; read SEMANTIC_RULES as a table.
//
// Severity follows the spec: where it says a runtime MUST generate an error
// the rule is an error; where it says a value is deprecated, ignored or only
// worth a warning, the rule is a warning.

import type { ConfigProblem } from './config-error.js';
import { pointer } from './json-pointer.js';
import { CAPABILITIES, RLIMITS } from './linux-names.js';
import type { IdMapping, LinuxNamespaceType, Spec } from './types.js';

export type Severity = 'error' | 'warning';

/** A place that breaks a rule, with what was found there when that helps. */
const S_IFMT = 0o170000;
/** The file type bits a device's fileMode may carry (sys/stat.h). */
const FILE_TYPE: Readonly<Record<string, number>> = { c: 0o020000, u: 0o020000, b: 0o060000, p: 0o010000 };

export interface Finding {
  location: string;
  detail?: string;
}

export interface SemanticRule {
  /** Where the rule applies; * stands for any array index or object key. */
  path: string;
  severity: Severity;
  /** The rule, and what to do, as the user will read it after the location. */
  message: string;
  check: (spec: Spec) => Iterable<Finding>;
}

/** HOST_NAME_MAX, and __NEW_UTS_LEN for domain names too. */
const HOST_NAME_MAX = 64;

/**
 * Filesystems the kernel ties to a namespace: mounting one needs CAP_SYS_ADMIN in the user
 * namespace that owns that namespace, so a new user namespace must bring its own (the rootless
 * fuzzer found both as a bare mount EPERM naming no namespace).
 */
const NAMESPACED_FILESYSTEMS: ReadonlyArray<{ type: string; namespace: LinuxNamespaceType }> = [
  { type: 'proc', namespace: 'pid' },
  { type: 'mqueue', namespace: 'ipc' },
];

export const SEMANTIC_RULES: readonly SemanticRule[] = [
  {
    path: '/ociVersion',
    severity: 'error',
    message: 'must be a SemVer 2.0.0 version with major version 1, such as "1.3.0" (tsrun implements runtime-spec 1.x)',
    check: (spec) => (isSpecVersion1(spec.ociVersion) ? [] : [found('/ociVersion', spec.ociVersion)]),
  },
  {
    path: '/root',
    severity: 'error',
    message: 'is required on Linux; add "root": { "path": "rootfs" } naming the root filesystem directory',
    check: (spec) => (spec.root === undefined ? [{ location: '/root' }] : []),
  },
  {
    path: '/mounts/*/destination',
    severity: 'warning',
    message: 'should be an absolute path; relative destinations are deprecated and are taken relative to "/"',
    check: (spec) =>
      entries(spec.mounts, '/mounts')
        .filter(([mount]) => !isAbsolute(mount.destination))
        .map(([mount, at]) => found(at + '/destination', mount.destination)),
  },
  {
    path: '/process/cwd',
    severity: 'error',
    message: 'must be an absolute path inside the container, such as "/"',
    check: (spec) => (spec.process && !isAbsolute(spec.process.cwd) ? [found('/process/cwd', spec.process.cwd)] : []),
  },
  {
    path: '/process/args',
    severity: 'error',
    message: 'must name the program to run: give at least one entry, such as ["sh"]',
    check: (spec) => (spec.process && (spec.process.args ?? []).length === 0 ? [{ location: '/process/args' }] : []),
  },
  {
    path: '/process/env/*',
    severity: 'error',
    message: 'must have the form NAME=value with a non-empty NAME',
    check: (spec) =>
      entries(spec.process?.env, '/process/env')
        .filter(([variable]) => variable.indexOf('=') < 1)
        .map(([variable, at]) => found(at, variable)),
  },
  {
    // Found by the fuzzer (test/reliability): the schema allows any uint32, and
    // setresuid(2) and friends take (uid_t)-1 as "leave unchanged", so the
    // process kept root's ids (the check at "ready" caught it, without naming the field).
    path: '/process/user/uid, /process/user/gid, /process/user/additionalGids/*',
    severity: 'error',
    message: 'must be below 4294967295, which the kernel reads as -1 ("leave the id unchanged")',
    check: (spec) => {
      const user = spec.process?.user;
      if (user === undefined) return [];
      const ids: Array<[number | undefined, string]> = [[user.uid, '/process/user/uid'], [user.gid, '/process/user/gid'], ...entries(user.additionalGids, '/process/user/additionalGids')];
      return ids.filter(([id]) => id === UNCHANGED_ID).map(([id, at]) => found(at, id));
    },
  },
  {
    path: '/process/consoleSize',
    severity: 'warning',
    message: 'is ignored because process.terminal is not true',
    check: (spec) =>
      spec.process?.consoleSize !== undefined && spec.process.terminal !== true ? [{ location: '/process/consoleSize' }] : [],
  },
  {
    path: '/process/capabilities/*/*',
    severity: 'error',
    message: 'must be a capability name of the form CAP_[A-Z_]+, such as "CAP_KILL"',
    check: (spec) => capabilityNames(spec).filter(([name]) => !/^CAP_[A-Z_]+$/.test(name)).map(([name, at]) => found(at, name)),
  },
  {
    // The spec asks for a warning, not a failure, for capabilities the runtime
    // cannot grant: a bundle written for a newer kernel must still run.
    path: '/process/capabilities/*/*',
    severity: 'warning',
    message: 'is not a capability tsrun knows (CAP_CHOWN ... CAP_CHECKPOINT_RESTORE); it will not be granted',
    check: (spec) =>
      capabilityNames(spec)
        .filter(([name]) => /^CAP_[A-Z_]+$/.test(name) && !KNOWN_CAPABILITIES.has(name))
        .map(([name, at]) => found(at, name)),
  },
  {
    path: '/process/rlimits/*/type',
    severity: 'error',
    message: `must be a resource Linux can limit: ${RLIMITS.join(', ')}`,
    check: (spec) =>
      entries(spec.process?.rlimits, '/process/rlimits')
        .filter(([limit]) => !KNOWN_RLIMITS.has(limit.type))
        .map(([limit, at]) => found(at + '/type', limit.type)),
  },
  {
    path: '/process/rlimits/*/type',
    severity: 'error',
    message: 'limits a resource already limited by an earlier entry; give each rlimit type once',
    check: (spec) => duplicates(entries(spec.process?.rlimits, '/process/rlimits'), (limit) => limit.type, '/type'),
  },
  {
    path: '/process/rlimits/*/soft',
    severity: 'error',
    message: 'must not be larger than hard: the kernel refuses a soft limit above the hard limit',
    check: (spec) =>
      entries(spec.process?.rlimits, '/process/rlimits')
        .filter(([limit]) => limit.soft > limit.hard)
        .map(([limit, at]) => ({ location: at + '/soft', detail: `soft ${limit.soft}, hard ${limit.hard}` })),
  },
  {
    path: '/hooks/*/*/path',
    severity: 'error',
    message: 'must be an absolute path to the hook program',
    check: (spec) =>
      Object.entries(spec.hooks ?? {}).flatMap(([stage, hooks]) =>
        entries(hooks, pointer('hooks', stage))
          .filter(([hook]) => !isAbsolute(hook.path))
          .map(([hook, at]) => found(at + '/path', hook.path)),
      ),
  },
  {
    // Found by the fuzzer (test/reliability): sethostname(2) and setdomainname(2) refuse longer names with EINVAL.
    path: '/hostname, /domainname',
    severity: 'error',
    message: `must be at most ${HOST_NAME_MAX} bytes long (the kernel's limit for a host or domain name)`,
    check: (spec) =>
      (['hostname', 'domainname'] as const)
        .filter((field) => Buffer.byteLength(spec[field] ?? '') > HOST_NAME_MAX)
        .map((field) => ({ location: `/${field}`, detail: `found ${Buffer.byteLength(spec[field] ?? '')} bytes` })),
  },
  {
    // Found by the fuzzer (test/reliability): every string tsrun hands the kernel or execve(2) is a
    // C string, which a NUL byte would cut short. Refused here, so the error names the field.
    path: '*',
    severity: 'error',
    message: 'must not contain a NUL byte (\\u0000): the kernel takes it as a C string, which ends there',
    check: (spec) => stringsWithNul(spec),
  },
  {
    path: '/hostname',
    severity: 'error',
    message: 'can only be set in a UTS namespace the container has: add { "type": "uts" } to linux.namespaces',
    check: (spec) => (spec.hostname && !hasNamespace(spec, 'uts') ? [{ location: '/hostname' }] : []),
  },
  {
    path: '/domainname',
    severity: 'error',
    message: 'can only be set in a UTS namespace the container has: add { "type": "uts" } to linux.namespaces',
    check: (spec) => (spec.domainname && !hasNamespace(spec, 'uts') ? [{ location: '/domainname' }] : []),
  },
  {
    path: '/linux/namespaces/*/type',
    severity: 'error',
    message: 'is already listed earlier; list each namespace type once',
    check: (spec) => duplicates(entries(spec.linux?.namespaces, '/linux/namespaces'), (namespace) => namespace.type, '/type'),
  },
  {
    path: '/linux/namespaces/*/path',
    severity: 'error',
    message: 'must be an absolute path to a namespace file, such as "/proc/1234/ns/net"',
    check: (spec) =>
      entries(spec.linux?.namespaces, '/linux/namespaces')
        .filter(([namespace]) => namespace.path && !isAbsolute(namespace.path))
        .map(([namespace, at]) => found(at + '/path', namespace.path)),
  },
  {
    path: '/linux/uidMappings, /linux/gidMappings',
    severity: 'error',
    message:
      'is required with a new user namespace: map at least one id, e.g. [{ "containerID": 0, "hostID": 100000, "size": 65536 }]',
    check: (spec) => (createsNamespace(spec, 'user') ? idMappingLists(spec).filter(({ mappings }) => mappings.length === 0) : []),
  },
  ...NAMESPACED_FILESYSTEMS.map(({ type, namespace }): SemanticRule => ({
    path: '/mounts/*/type',
    severity: 'error',
    message: `is a ${type} mount in a new user namespace without a ${namespace} namespace: the kernel lets only the user namespace that owns the ${namespace} namespace mount ${type} (EPERM, for runc too); add { "type": "${namespace}" } to linux.namespaces`,
    check: (spec) =>
      createsNamespace(spec, 'user') && !hasNamespace(spec, namespace)
        ? entries(spec.mounts, '/mounts')
            .filter(([mount]) => mount.type === type)
            .map(([mount, at]) => found(at + '/type', mount.type))
        : [],
  })),
  {
    path: '/linux/uidMappings, /linux/gidMappings',
    severity: 'error',
    message:
      'maps no container id 0: tsrun becomes root of the new user namespace to set the container up (runc refuses such a config too); add a mapping with "containerID": 0',
    check: (spec) =>
      createsNamespace(spec, 'user')
        ? idMappingLists(spec).filter(({ mappings }) => mappings.length > 0 && !mappings.some((m) => m.containerID === 0 && m.size > 0))
        : [],
  },
  {
    path: '/linux/uidMappings, /linux/gidMappings',
    severity: 'error',
    message: 'only apply to a new user namespace: add { "type": "user" } to linux.namespaces, or remove the mappings',
    check: (spec) => (hasNamespace(spec, 'user') ? [] : idMappingLists(spec).filter(({ mappings }) => mappings.length > 0)),
  },
  {
    path: '/linux/uidMappings, /linux/gidMappings',
    severity: 'error',
    message: 'cannot be applied to a user namespace that is joined by path (its mappings are already set); remove them',
    check: (spec) => (joinsNamespace(spec, 'user') ? idMappingLists(spec).filter(({ mappings }) => mappings.length > 0) : []),
  },
  {
    path: '/linux/timeOffsets',
    severity: 'error',
    message: 'can only be applied to a new time namespace: add { "type": "time" } without a path to linux.namespaces',
    check: (spec) =>
      Object.keys(spec.linux?.timeOffsets ?? {}).length > 0 && !createsNamespace(spec, 'time')
        ? [{ location: '/linux/timeOffsets' }]
        : [],
  },
  {
    path: '/linux/sysctl/*',
    severity: 'error',
    message: 'belongs to a namespace the container does not have, so setting it would change the host; add that namespace',
    check: (spec) =>
      Object.keys(spec.linux?.sysctl ?? {}).flatMap((key) => {
        const namespace = sysctlNamespace(key);
        return namespace !== undefined && !hasNamespace(spec, namespace)
          ? [{ location: pointer('linux', 'sysctl', key), detail: `needs { "type": "${namespace}" } in linux.namespaces` }]
          : [];
      }),
  },
  {
    path: '/linux/sysctl/*',
    severity: 'error',
    message:
      'is not isolated by any namespace, so setting it would change the whole host; only net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, kernel.hostname and kernel.domainname are allowed',
    check: (spec) =>
      Object.keys(spec.linux?.sysctl ?? {})
        .filter((key) => sysctlNamespace(key) === undefined)
        .map((key) => ({ location: pointer('linux', 'sysctl', key) })),
  },
  {
    path: '/linux/cgroupsPath',
    severity: 'error',
    message:
      'must be an absolute path ("/tsrun/web"), a relative path ("tsrun/web") without ".." components, or the systemd form "slice:prefix:name" ("system.slice:tsrun:web")',
    check: (spec) => {
      const path = spec.linux?.cgroupsPath;
      return path && !isCgroupsPath(path) ? [found('/linux/cgroupsPath', path)] : [];
    },
  },
  {
    path: '/linux/devices/*',
    severity: 'error',
    message: 'needs major and minor numbers: only FIFOs (type "p") can do without them',
    check: (spec) =>
      entries(spec.linux?.devices, '/linux/devices')
        .filter(([device]) => device.type !== 'p' && (device.major === undefined || device.minor === undefined))
        .map(([device, at]) => ({ location: at, detail: `type "${device.type}" at ${device.path}` })),
  },
  {
    path: '/linux/devices/*/fileMode',
    severity: 'error',
    message: 'has file type bits that are not the device\'s type (S_IFCHR 8192 for "c" and "u", S_IFBLK 24576 for "b", S_IFIFO 4096 for "p"); give the permission bits alone',
    check: (spec) =>
      entries(spec.linux?.devices, '/linux/devices')
        .filter(([device]) => device.fileMode !== undefined && (device.fileMode & S_IFMT) !== 0 && (device.fileMode & S_IFMT) !== FILE_TYPE[device.type])
        .map(([device, at]) => found(`${at}/fileMode`, device.fileMode)),
  },
  {
    path: '/linux/devices/*/path',
    severity: 'error',
    message: 'must be the absolute path of the device inside the container, such as "/dev/fuse"',
    check: (spec) =>
      entries(spec.linux?.devices, '/linux/devices')
        .filter(([device]) => !isAbsolute(device.path))
        .map(([device, at]) => found(at + '/path', device.path)),
  },
  {
    path: '/linux/maskedPaths/*, /linux/readonlyPaths/*',
    severity: 'error',
    message: 'must be an absolute path inside the container, such as "/proc/kcore"',
    check: (spec) =>
      [...entries(spec.linux?.maskedPaths, '/linux/maskedPaths'), ...entries(spec.linux?.readonlyPaths, '/linux/readonlyPaths')]
        .filter(([path]) => !isAbsolute(path))
        .map(([path, at]) => found(at, path)),
  },
];

export interface SemanticReport {
  errors: ConfigProblem[];
  warnings: ConfigProblem[];
}

export function checkSemanticRules(spec: Spec, rules: readonly SemanticRule[] = SEMANTIC_RULES): SemanticReport {
  const report: SemanticReport = { errors: [], warnings: [] };
  for (const rule of rules) {
    for (const finding of rule.check(spec)) {
      const message = finding.detail === undefined ? rule.message : `${rule.message} (${finding.detail})`;
      (rule.severity === 'error' ? report.errors : report.warnings).push({ location: finding.location, message });
    }
  }
  return report;
}

const KNOWN_CAPABILITIES: ReadonlySet<string> = new Set(CAPABILITIES);
const KNOWN_RLIMITS: ReadonlySet<string> = new Set(RLIMITS);

function found(location: string, value: unknown): Finding {
  return { location, detail: `found ${JSON.stringify(value)}` };
}

function isAbsolute(path: string): boolean {
  return path.startsWith('/');
}

const UNCHANGED_ID = 0xffff_ffff;

/** Items of an optional list, each with its JSON pointer. */
function entries<T>(list: readonly T[] | undefined, base: string): Array<[T, string]> {
  return (list ?? []).map((item, index) => [item, `${base}/${index}`]);
}

/** Every entry after the first that has the same key as an earlier one. */
function duplicates<T>(items: Array<[T, string]>, key: (item: T) => string, suffix: string): Finding[] {
  const seen = new Set<string>();
  const repeated: Finding[] = [];
  for (const [item, at] of items) {
    const value = key(item);
    if (seen.has(value)) repeated.push(found(at + suffix, value));
    seen.add(value);
  }
  return repeated;
}

// The five sets only: the schema lets other fields through (as the spec allows extensions), and they need not be lists.
const CAPABILITY_SETS = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const;

function capabilityNames(spec: Spec): Array<[string, string]> {
  const capabilities = spec.process?.capabilities;
  return CAPABILITY_SETS.flatMap((set) => entries(capabilities?.[set], pointer('process', 'capabilities', set)));
}

function idMappingLists(spec: Spec): Array<Finding & { mappings: IdMapping[] }> {
  return (['uidMappings', 'gidMappings'] as const).map((field) => ({
    location: `/linux/${field}`,
    mappings: spec.linux?.[field] ?? [],
  }));
}

function hasNamespace(spec: Spec, type: LinuxNamespaceType): boolean {
  return (spec.linux?.namespaces ?? []).some((namespace) => namespace.type === type);
}

// An empty path means "create": Go-written configs omit empty strings, but
// hand-written ones sometimes carry them.
function createsNamespace(spec: Spec, type: LinuxNamespaceType): boolean {
  return (spec.linux?.namespaces ?? []).some((namespace) => namespace.type === type && !namespace.path);
}

function joinsNamespace(spec: Spec, type: LinuxNamespaceType): boolean {
  return (spec.linux?.namespaces ?? []).some((namespace) => namespace.type === type && Boolean(namespace.path));
}

/** The namespace that isolates a sysctl, or undefined when it is global to the host. */
function sysctlNamespace(key: string): LinuxNamespaceType | undefined {
  const name = key.replaceAll('/', '.'); // sysctl(8) accepts both separators
  if (name.startsWith('net.')) return 'network';
  if (name.startsWith('fs.mqueue.') || /^kernel\.(msg.*|sem|sem_next_id|shm.*)$/.test(name)) return 'ipc';
  if (name === 'kernel.hostname' || name === 'kernel.domainname') return 'uts';
  return undefined;
}

/**
 * Every string value and key that holds a NUL byte, annotations apart: they are
 * only recorded and handed to hooks as JSON, which carries a NUL as well as any
 * character. Walks with an explicit stack (see nesting-limit.ts).
 */
function stringsWithNul(spec: unknown): Finding[] {
  const findings: Finding[] = [];
  const pending: Array<[unknown, string]> = [[spec, '']];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [value, at] = next;
    if (typeof value === 'string') {
      if (value.includes('\0')) findings.push(found(at, value));
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => pending.push([item, `${at}/${index}`]));
    } else if (typeof value === 'object' && value !== null && at !== '/annotations') {
      for (const [key, item] of Object.entries(value)) {
        const place = at + pointer(key);
        if (key.includes('\0')) findings.push(found(place, key));
        else pending.push([item, place]);
      }
    }
  }
  return findings.reverse();
}

function isCgroupsPath(path: string): boolean {
  if (path.includes('\0')) return false;
  // systemd's slice:prefix:name never starts with "/"; anything else with a
  // colon is a malformed attempt at it.
  if (!isAbsolute(path) && path.includes(':')) {
    const [slice, prefix, name, ...rest] = path.split(':');
    return (
      rest.length === 0 &&
      prefix !== undefined &&
      name !== undefined &&
      name !== '' &&
      (slice === '' || (slice !== undefined && slice.endsWith('.slice') && !slice.includes('/')))
    );
  }
  return !path.split('/').includes('..');
}

/** SemVer 2.0.0 (https://semver.org) with major version 1. */
function isSpecVersion1(version: string): boolean {
  const match = /^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$/.exec(version);
  if (match === null || match[1] !== '1') return false;
  const [, , , , prerelease, build] = match;
  // Dot-separated identifiers may not be empty; in a pre-release, numeric ones
  // may not have leading zeros.
  const identifiersOk = (part: string | undefined, noLeadingZeros: boolean): boolean =>
    part === undefined || part.split('.').every((id) => id !== '' && !(noLeadingZeros && /^0[0-9]+$/.test(id)));
  return identifiersOk(prerelease, true) && identifiersOk(build, false);
}
