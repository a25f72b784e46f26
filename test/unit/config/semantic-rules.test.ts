// Each semantic rule, broken on purpose in an otherwise valid config, must fire
// alone and point at the right place; near misses must not fire at all.
import { describe, expect, it } from 'vitest';
import { SEMANTIC_RULES, checkSemanticRules, type SemanticRule } from '../../../src/config/semantic-rules.js';
import type { Spec } from '../../../src/config/types.js';

function baseSpec(): Spec {
  return {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    process: {
      cwd: '/',
      args: ['sh'],
      env: ['PATH=/bin', 'EMPTY='],
      user: { uid: 0, gid: 0 },
      capabilities: { bounding: ['CAP_KILL', 'CAP_CHECKPOINT_RESTORE'] },
      rlimits: [
        { type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 },
        { type: 'RLIMIT_CORE', soft: 0, hard: 10 },
      ],
    },
    hostname: 'box',
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
    hooks: { poststop: [{ path: '/bin/true' }] },
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      cgroupsPath: '/tsrun/box',
      sysctl: { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '65536' },
      devices: [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229 }],
      maskedPaths: ['/proc/kcore'],
      readonlyPaths: ['/proc/sys'],
    },
  };
}

/** The base config with one edit applied. Tests reach into optional parts they know exist. */
function edited(edit: (spec: Spec & { process: NonNullable<Spec['process']>; linux: NonNullable<Spec['linux']> }) => void): Spec {
  const spec = structuredClone(baseSpec()) as Spec & { process: NonNullable<Spec['process']>; linux: NonNullable<Spec['linux']> };
  edit(spec);
  return spec;
}

function firingRules(spec: Spec): SemanticRule[] {
  return SEMANTIC_RULES.filter((rule) => [...rule.check(spec)].length > 0);
}

interface BrokenCase {
  name: string;
  spec: Spec;
  severity: 'error' | 'warning';
  locations: string[];
}

const withoutUts = (spec: Spec): void => {
  spec.linux!.namespaces = spec.linux!.namespaces!.filter((namespace) => namespace.type !== 'uts');
  delete spec.hostname;
};

const BROKEN: BrokenCase[] = [
  { name: 'ociVersion with major 2', spec: edited((s) => void (s.ociVersion = '2.0.0')), severity: 'error', locations: ['/ociVersion'] },
  { name: 'ociVersion with two parts', spec: edited((s) => void (s.ociVersion = '1.0')), severity: 'error', locations: ['/ociVersion'] },
  {
    name: 'ociVersion with a leading zero in a numeric pre-release',
    spec: edited((s) => void (s.ociVersion = '1.0.0-rc.01')),
    severity: 'error',
    locations: ['/ociVersion'],
  },
  { name: 'no root', spec: edited((s) => delete s.root), severity: 'error', locations: ['/root'] },
  {
    name: 'relative mount destination',
    spec: edited((s) => void (s.mounts![0]!.destination = 'proc')),
    severity: 'warning',
    locations: ['/mounts/0/destination'],
  },
  { name: 'relative cwd', spec: edited((s) => void (s.process.cwd = 'tmp')), severity: 'error', locations: ['/process/cwd'] },
  { name: 'empty args', spec: edited((s) => void (s.process.args = [])), severity: 'error', locations: ['/process/args'] },
  { name: 'no args', spec: edited((s) => delete s.process.args), severity: 'error', locations: ['/process/args'] },
  {
    name: 'env entries without a name or without =',
    spec: edited((s) => void s.process.env!.push('=x', 'NOEQUALS')),
    severity: 'error',
    locations: ['/process/env/2', '/process/env/3'],
  },
  {
    name: 'consoleSize without terminal',
    spec: edited((s) => void (s.process.consoleSize = { height: 25, width: 80 })),
    severity: 'warning',
    locations: ['/process/consoleSize'],
  },
  {
    name: 'a hostname longer than the kernel takes',
    spec: edited((s) => void (s.hostname = 'x'.repeat(65))),
    severity: 'error',
    locations: ['/hostname'],
  },
  {
    name: 'NUL bytes in strings and keys the kernel takes, but not in annotations',
    spec: edited((s) => {
      s.hostname = 'a\u0000b';
      s.process.args = ['sh', '-c\u0000'];
      s.linux.sysctl = { 'net.a\u0000b': '1' };
      s.annotations = { 'k\u0000': 'v\u0000' };
    }),
    severity: 'error',
    locations: ['/process/args/1', '/hostname', '/linux/sysctl/net.a\u0000b'],
  },
  {
    name: 'a uid the kernel reads as -1',
    spec: edited((s) => void (s.process.user!.uid = 4294967295)),
    severity: 'error',
    locations: ['/process/user/uid'],
  },
  {
    name: 'an additional gid the kernel reads as -1',
    spec: edited((s) => void (s.process.user!.additionalGids = [5, 4294967295])),
    severity: 'error',
    locations: ['/process/user/additionalGids/1'],
  },
  {
    name: 'malformed capability name',
    spec: edited((s) => void s.process.capabilities!.bounding!.push('CAP_kill')),
    severity: 'error',
    locations: ['/process/capabilities/bounding/2'],
  },
  {
    name: 'capability unknown to Linux',
    spec: edited((s) => void (s.process.capabilities!.ambient = ['CAP_TIME_TRAVEL'])),
    severity: 'warning',
    locations: ['/process/capabilities/ambient/0'],
  },
  {
    name: 'unknown rlimit',
    spec: edited((s) => void (s.process.rlimits![1]!.type = 'RLIMIT_FOO')),
    severity: 'error',
    locations: ['/process/rlimits/1/type'],
  },
  {
    name: 'rlimit given twice',
    spec: edited((s) => void (s.process.rlimits![1]!.type = 'RLIMIT_NOFILE')),
    severity: 'error',
    locations: ['/process/rlimits/1/type'],
  },
  {
    name: 'soft rlimit above hard',
    spec: edited((s) => void (s.process.rlimits![0]!.soft = 4096)),
    severity: 'error',
    locations: ['/process/rlimits/0/soft'],
  },
  {
    name: 'relative hook path',
    spec: edited((s) => void (s.hooks = { createRuntime: [{ path: '/ok' }, { path: 'bin/hook' }] })),
    severity: 'error',
    locations: ['/hooks/createRuntime/1/path'],
  },
  {
    name: 'hostname without a uts namespace',
    spec: edited((s) => void (s.linux.namespaces = s.linux.namespaces!.filter((namespace) => namespace.type !== 'uts'))),
    severity: 'error',
    locations: ['/hostname'],
  },
  {
    name: 'domainname without a uts namespace',
    spec: edited((s) => {
      withoutUts(s);
      s.domainname = 'example.test';
    }),
    severity: 'error',
    locations: ['/domainname'],
  },
  {
    name: 'namespace type listed twice',
    spec: edited((s) => void s.linux.namespaces!.push({ type: 'network', path: '/run/netns/a' })),
    severity: 'error',
    locations: ['/linux/namespaces/5/type'],
  },
  {
    name: 'relative namespace path',
    spec: edited((s) => void (s.linux.namespaces![0] = { type: 'pid', path: 'proc/1/ns/pid' })),
    severity: 'error',
    locations: ['/linux/namespaces/0/path'],
  },
  {
    name: 'new user namespace without mappings',
    spec: edited((s) => void s.linux.namespaces!.push({ type: 'user' })),
    severity: 'error',
    locations: ['/linux/uidMappings', '/linux/gidMappings'],
  },
  {
    name: 'new user namespace with empty gid mappings',
    spec: edited((s) => {
      s.linux.namespaces!.push({ type: 'user' });
      s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      s.linux.gidMappings = [];
    }),
    severity: 'error',
    locations: ['/linux/gidMappings'],
  },
  {
    name: 'new user namespace whose gid mappings miss container gid 0 (rootless fuzzer, seed 0x0e case 264: setresgid 0 failed naming no field)',
    spec: edited((s) => {
      s.linux.namespaces!.push({ type: 'user' });
      s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      s.linux.gidMappings = [{ containerID: 1, hostID: 1000, size: 1 }, { containerID: 0, hostID: 2000, size: 0 }];
    }),
    severity: 'error',
    locations: ['/linux/gidMappings'],
  },
  {
    name: 'proc mounted in a new user namespace without a pid namespace (rootless fuzzer, seed 0xaba41742 case 17: mount EPERM named no namespace)',
    spec: edited((s) => {
      s.linux.namespaces = [...s.linux.namespaces!.filter((n) => n.type !== 'pid'), { type: 'user' }];
      s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      s.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      s.mounts = [{ destination: '/tmp', type: 'tmpfs' }, { destination: '/proc', type: 'proc', source: 'proc' }];
    }),
    severity: 'error',
    locations: ['/mounts/1/type'],
  },
  {
    name: 'mqueue mounted in a new user namespace without an ipc namespace (rootless fuzzer, seed 0xc93e2a9c case 263: mount EPERM named no namespace)',
    spec: edited((s) => {
      s.linux.namespaces = [...s.linux.namespaces!.filter((n) => n.type !== 'ipc'), { type: 'user' }];
      s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      s.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      s.mounts = [{ destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue' }];
      delete s.linux.sysctl; // kernel.shmmax needs the ipc namespace too
    }),
    severity: 'error',
    locations: ['/mounts/0/type'],
  },
  {
    name: 'mappings without a user namespace',
    spec: edited((s) => void (s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }])),
    severity: 'error',
    locations: ['/linux/uidMappings'],
  },
  {
    name: 'mappings for a user namespace joined by path',
    spec: edited((s) => {
      s.linux.namespaces!.push({ type: 'user', path: '/proc/1234/ns/user' });
      s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
      s.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    }),
    severity: 'error',
    locations: ['/linux/uidMappings', '/linux/gidMappings'],
  },
  {
    name: 'timeOffsets without a time namespace',
    spec: edited((s) => void (s.linux.timeOffsets = { monotonic: { secs: 10 } })),
    severity: 'error',
    locations: ['/linux/timeOffsets'],
  },
  {
    name: 'timeOffsets for a time namespace joined by path',
    spec: edited((s) => {
      s.linux.namespaces!.push({ type: 'time', path: '/proc/1234/ns/time' });
      s.linux.timeOffsets = { boottime: { secs: 10 } };
    }),
    severity: 'error',
    locations: ['/linux/timeOffsets'],
  },
  {
    name: 'net.* sysctl without a network namespace',
    spec: edited((s) => void (s.linux.namespaces = s.linux.namespaces!.filter((namespace) => namespace.type !== 'network'))),
    severity: 'error',
    locations: ['/linux/sysctl/net.ipv4.ip_forward'],
  },
  {
    name: 'IPC sysctls without an ipc namespace',
    spec: edited((s) => {
      s.linux.namespaces = s.linux.namespaces!.filter((namespace) => namespace.type !== 'ipc');
      s.linux.sysctl = { ...s.linux.sysctl, 'fs.mqueue.msg_max': '10', 'kernel.msgmax': '8192', 'kernel.sem': '250 32000 32 128' };
    }),
    severity: 'error',
    locations: ['/linux/sysctl/kernel.shmmax', '/linux/sysctl/fs.mqueue.msg_max', '/linux/sysctl/kernel.msgmax', '/linux/sysctl/kernel.sem'],
  },
  {
    name: 'kernel.hostname sysctl without a uts namespace',
    spec: edited((s) => {
      withoutUts(s);
      s.linux.sysctl = { 'kernel/hostname': 'box' };
    }),
    severity: 'error',
    locations: ['/linux/sysctl/kernel~1hostname'],
  },
  {
    name: 'sysctl no namespace isolates',
    spec: edited((s) => void (s.linux.sysctl = { 'vm.swappiness': '10', 'kernel.semaphores': '1' })),
    severity: 'error',
    locations: ['/linux/sysctl/vm.swappiness', '/linux/sysctl/kernel.semaphores'],
  },
  ...['a:b', '../../etc', 'tsrun/../../x', 'system.slice/x:tsrun:box', 'system.slice:tsrun:', 'system:tsrun:box', 'a:b:c:d'].map(
    (cgroupsPath): BrokenCase => ({
      name: `cgroupsPath ${JSON.stringify(cgroupsPath)}`,
      spec: edited((s) => void (s.linux.cgroupsPath = cgroupsPath)),
      severity: 'error',
      locations: ['/linux/cgroupsPath'],
    }),
  ),
  {
    name: 'block device without minor',
    spec: edited((s) => void (s.linux.devices = [{ type: 'b', path: '/dev/sda', major: 8 }])),
    severity: 'error',
    locations: ['/linux/devices/0'],
  },
  {
    name: 'unbuffered device without major',
    spec: edited((s) => void s.linux.devices!.push({ type: 'u', path: '/dev/x', minor: 1 })),
    severity: 'error',
    locations: ['/linux/devices/1'],
  },
  {
    name: 'device fileMode whose file type bits are another type\'s (S_IFBLK on a char device)',
    spec: edited((s) => void (s.linux.devices![0]!.fileMode = 0o060600)),
    severity: 'error',
    locations: ['/linux/devices/0/fileMode'],
  },
  {
    name: 'relative device path',
    spec: edited((s) => void (s.linux.devices![0]!.path = 'dev/fuse')),
    severity: 'error',
    locations: ['/linux/devices/0/path'],
  },
  {
    name: 'relative masked and read-only paths',
    spec: edited((s) => {
      s.linux.maskedPaths!.push('proc/keys');
      s.linux.readonlyPaths!.push('sys');
    }),
    severity: 'error',
    locations: ['/linux/maskedPaths/1', '/linux/readonlyPaths/1'],
  },
];

const VALID: Array<[string, Spec]> = [
  ['the base config', baseSpec()],
  // Found by the fuzzer (test/reliability): an extension field beside the sets was taken for a list (TypeError).
  ['an unknown field beside the capability sets', edited((s) => void Object.assign(s.process.capabilities!, { 'x-extension': { a: 1 } }))],
  ['a pre-release version', edited((s) => void (s.ociVersion = '1.0.2-dev'))],
  ['a version with build metadata', edited((s) => void (s.ociVersion = '1.3.0-rc.1+build.5'))],
  ['hostname with a uts namespace joined by path', edited((s) => void (s.linux.namespaces![3] = { type: 'uts', path: '/proc/1/ns/uts' }))],
  ['an empty hostname without uts namespace', edited((s) => {
    withoutUts(s);
    s.hostname = '';
  })],
  ['net sysctl with a network namespace joined by path', edited((s) => void (s.linux.namespaces![1] = { type: 'network', path: '/run/netns/a' }))],
  ['a sysctl written with slashes', edited((s) => void (s.linux.sysctl = { 'net/ipv4/ip_forward': '1' }))],
  ['new user namespace with mappings', edited((s) => {
    s.linux.namespaces!.push({ type: 'user' });
    s.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  })],
  ['a user namespace joined by path without mappings', edited((s) => void s.linux.namespaces!.push({ type: 'user', path: '/proc/1/ns/user' }))],
  ['timeOffsets with a new time namespace', edited((s) => {
    s.linux.namespaces!.push({ type: 'time' });
    s.linux.timeOffsets = { monotonic: { secs: 86400, nanosecs: 0 } };
  })],
  ...['/abs/path', 'relative/path', 'system.slice:tsrun:box', ':tsrun:box', 'user.slice:prefix:name'].map(
    (cgroupsPath): [string, Spec] => [`cgroupsPath ${JSON.stringify(cgroupsPath)}`, edited((s) => void (s.linux.cgroupsPath = cgroupsPath))],
  ),
  ['a FIFO without device numbers', edited((s) => void s.linux.devices!.push({ type: 'p', path: '/dev/fifo' }))],
  ['a char device fileMode with S_IFCHR, as podman --privileged sends it', edited((s) => void (s.linux.devices![0]!.fileMode = 8576))],
  ['consoleSize with a terminal', edited((s) => {
    s.process.terminal = true;
    s.process.consoleSize = { height: 25, width: 80 };
  })],
  ['no process at all', edited((s) => delete (s as Spec).process)],
  ['no linux section and no hostname', edited((s) => {
    delete (s as Spec).linux;
    delete s.hostname;
  })],
];

describe('semantic rules', () => {
  it.each(BROKEN.map((broken) => [broken.name, broken]))('%s: exactly one rule fires, at the right place', (_, broken) => {
    const rules = firingRules(broken.spec);
    expect(rules, 'rules that fired').toHaveLength(1);
    expect(rules[0]?.severity).toBe(broken.severity);
    const report = checkSemanticRules(broken.spec);
    const flagged = broken.severity === 'error' ? report.errors : report.warnings;
    expect(flagged.map((problem) => problem.location)).toEqual(broken.locations);
    expect(broken.severity === 'error' ? report.warnings : report.errors).toEqual([]);
  });

  it.each(VALID)('%s breaks no rule', (_, spec) => {
    expect(checkSemanticRules(spec)).toEqual({ errors: [], warnings: [] });
  });

  it('every rule in the table is exercised by a broken case', () => {
    const exercised = new Set(BROKEN.flatMap((broken) => firingRules(broken.spec)));
    const missing = SEMANTIC_RULES.filter((rule) => !exercised.has(rule)).map((rule) => `${rule.path}: ${rule.message}`);
    expect(missing).toEqual([]);
  });

  it('messages say what was found where it helps', () => {
    const report = checkSemanticRules(edited((s) => void (s.process.cwd = 'tmp')));
    expect(report.errors).toEqual([
      { location: '/process/cwd', message: 'must be an absolute path inside the container, such as "/" (found "tmp")' },
    ]);
  });
});
