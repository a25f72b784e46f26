// Variations of the spec's spec-example.json used to compare our schema with
// the official one. Each names the JSON pointers it changes and what both
// schemas must say about the result.
//
// "only ours refuses" marks the places where our schema deliberately follows
// the spec's prose more closely than the official schema does; `why` quotes
// the rule. "only ours accepts" marks what engines send and runc takes that
// the official schema refuses; `why` names the engine. Anything else must
// get the same verdict from both.

export const REMOVE = Symbol('remove');

export type Verdict = 'both accept' | 'both refuse' | 'only ours refuses' | 'only ours accepts';

export interface Mutation {
  name: string;
  changes: Array<[pointer: string, value: unknown]>;
  verdict: Verdict;
  why?: string;
}

export const MUTATIONS: readonly Mutation[] = [
  // Both schemas refuse.
  { name: 'ociVersion missing', changes: [['/ociVersion', REMOVE]], verdict: 'both refuse' },
  { name: 'ociVersion not a string', changes: [['/ociVersion', 1]], verdict: 'both refuse' },
  { name: 'root.path missing', changes: [['/root/path', REMOVE]], verdict: 'both refuse' },
  { name: 'root.readonly a string', changes: [['/root/readonly', 'yes']], verdict: 'both refuse' },
  { name: 'process.cwd missing', changes: [['/process/cwd', REMOVE]], verdict: 'both refuse' },
  { name: 'process.terminal a string', changes: [['/process/terminal', 'true']], verdict: 'both refuse' },
  { name: 'negative uid', changes: [['/process/user/uid', -1]], verdict: 'both refuse' },
  { name: 'gid above uint32', changes: [['/process/user/gid', 4294967296]], verdict: 'both refuse' },
  { name: 'rlimit type in lower case', changes: [['/process/rlimits/0/type', 'RLIMIT_core']], verdict: 'both refuse' },
  { name: 'rlimit without soft', changes: [['/process/rlimits/1/soft', REMOVE]], verdict: 'both refuse' },
  { name: 'mount without destination', changes: [['/mounts/0/destination', REMOVE]], verdict: 'both refuse' },
  { name: 'mount options a string', changes: [['/mounts/1/options', 'nosuid']], verdict: 'both refuse' },
  { name: 'hook timeout 0', changes: [['/hooks/poststart/0/timeout', 0]], verdict: 'both refuse' },
  { name: 'hook without path', changes: [['/hooks/prestart/1/path', REMOVE]], verdict: 'both refuse' },
  { name: 'unknown namespace type', changes: [['/linux/namespaces/0/type', 'process']], verdict: 'both refuse' },
  { name: 'unknown device type', changes: [['/linux/devices/0/type', 'x']], verdict: 'both refuse' },
  { name: 'device without path', changes: [['/linux/devices/1/path', REMOVE]], verdict: 'both refuse' },
  { name: 'id mapping without size', changes: [['/linux/uidMappings/0/size', REMOVE]], verdict: 'both refuse' },
  { name: 'memory limit as text', changes: [['/linux/resources/memory/limit', '512m']], verdict: 'both refuse' },
  { name: 'pids without limit', changes: [['/linux/resources/pids', {}]], verdict: 'both refuse' },
  { name: 'blockIO weight above uint16', changes: [['/linux/resources/blockIO/weight', 70000]], verdict: 'both refuse' },
  { name: 'hugepage size in lower case', changes: [['/linux/resources/hugepageLimits/0/pageSize', '2mb']], verdict: 'both refuse' },
  { name: 'cpu quota a fraction', changes: [['/linux/resources/cpu/quota', 1.5]], verdict: 'both refuse' },
  { name: 'rootfsPropagation rprivate', changes: [['/linux/rootfsPropagation', 'rprivate']], verdict: 'both refuse' },
  { name: 'unknown seccomp action', changes: [['/linux/seccomp/defaultAction', 'SCMP_ACT_DENY']], verdict: 'both refuse' },
  { name: 'seccomp rule without names', changes: [['/linux/seccomp/syscalls/0/names', []]], verdict: 'both refuse' },
  { name: 'seccomp arch without prefix', changes: [['/linux/seccomp/architectures/0', 'x86']], verdict: 'both refuse' },
  { name: 'cgroup device rule without allow', changes: [['/linux/resources/devices/0/allow', REMOVE]], verdict: 'both refuse' },
  { name: 'memBwSchema not starting with MB:', changes: [['/linux/intelRdt', { memBwSchema: 'L3:0=ff' }]], verdict: 'both refuse' },
  { name: 'annotation value a number', changes: [['/annotations/com.example.key1', 5]], verdict: 'both refuse' },
  { name: 'sysctl value a number', changes: [['/linux/sysctl/net.core.somaxconn', 256]], verdict: 'both refuse' },
  { name: 'scheduler without policy', changes: [['/process/scheduler', { nice: 1 }]], verdict: 'both refuse' },
  { name: 'unknown I/O class', changes: [['/process/ioPriority', { class: 'IOPRIO_CLASS_NONE', priority: 0 }]], verdict: 'both refuse' },
  { name: 'unknown memory policy mode', changes: [['/linux/memoryPolicy', { mode: 'MPOL_FOO' }]], verdict: 'both refuse' },
  { name: 'negative time offset nanoseconds', changes: [['/linux/timeOffsets/monotonic/nanosecs', -1]], verdict: 'both refuse' },
  { name: 'net device name a number', changes: [['/linux/netDevices', { eth0: { name: 1 } }]], verdict: 'both refuse' },
  { name: 'capability set a string', changes: [['/process/capabilities/bounding', 'CAP_KILL']], verdict: 'both refuse' },
  { name: 'hostname a number', changes: [['/hostname', 7]], verdict: 'both refuse' },
  { name: 'consoleSize without width', changes: [['/process/consoleSize', { height: 10 }]], verdict: 'both refuse' },
  { name: 'CPU list with a semicolon', changes: [['/process/execCPUAffinity', { initial: '0-3;7' }]], verdict: 'both refuse' },
  { name: 'unknown personality domain', changes: [['/linux/personality', { domain: 'LINUX64' }]], verdict: 'both refuse' },

  // Both schemas accept.
  { name: 'consoleSize', changes: [['/process/consoleSize', { height: 25, width: 80 }]], verdict: 'both accept' },
  { name: 'ioPriority', changes: [['/process/ioPriority', { class: 'IOPRIO_CLASS_BE', priority: 4 }]], verdict: 'both accept' },
  {
    name: 'memoryPolicy',
    changes: [['/linux/memoryPolicy', { mode: 'MPOL_BIND', nodes: '0-1', flags: ['MPOL_F_STATIC_NODES'] }]],
    verdict: 'both accept',
  },
  { name: 'unknown top-level property', changes: [['/x-vendor-extension', { anything: [1, 2] }]], verdict: 'both accept' },
  { name: 'rootfsPropagation private', changes: [['/linux/rootfsPropagation', 'private']], verdict: 'both accept' },
  { name: 'personality LINUX32', changes: [['/linux/personality', { domain: 'LINUX32' }]], verdict: 'both accept' },
  { name: 'execCPUAffinity', changes: [['/process/execCPUAffinity', { initial: '0-3,7', final: '1' }]], verdict: 'both accept' },
  {
    name: 'intelRdt with schemata',
    changes: [['/linux/intelRdt', { closID: 'guaranteed_group', schemata: ['L3:0=7f0;1=1f'], memBwSchema: 'MB:0=20', enableMonitoring: true }]],
    verdict: 'both accept',
  },
  {
    name: 'id-mapped mount',
    changes: [
      ['/mounts/0/uidMappings', [{ containerID: 0, hostID: 1000, size: 1 }]],
      ['/mounts/0/gidMappings', [{ containerID: 0, hostID: 1000, size: 1 }]],
    ],
    verdict: 'both accept',
  },
  {
    name: 'seccomp notify listener',
    changes: [
      ['/linux/seccomp/flags', ['SECCOMP_FILTER_FLAG_LOG']],
      ['/linux/seccomp/listenerPath', '/run/agent.sock'],
      ['/linux/seccomp/listenerMetadata', 'opaque'],
    ],
    verdict: 'both accept',
  },
  {
    name: 'deadline scheduler',
    changes: [['/process/scheduler', { policy: 'SCHED_DEADLINE', runtime: 1, deadline: 2, period: 3, flags: ['SCHED_FLAG_RECLAIM'] }]],
    verdict: 'both accept',
  },
  { name: 'cgroup v2 unified', changes: [['/linux/resources/unified', { 'memory.max': 'max' }]], verdict: 'both accept' },
  { name: 'rdma handles only', changes: [['/linux/resources/rdma', { mlx5_1: { hcaHandles: 3 } }]], verdict: 'both accept' },
  { name: 'no process', changes: [['/process', REMOVE]], verdict: 'both accept' },
  { name: 'unlimited memory', changes: [['/linux/resources/memory/limit', -1]], verdict: 'both accept' },
  { name: 'umask', changes: [['/process/user/umask', 18]], verdict: 'both accept' },

  // Our schema takes what engines send and runc runs.
  {
    name: 'device fileMode with its file type bits',
    changes: [['/linux/devices/0/fileMode', 8576]],
    verdict: 'only ours accepts',
    why: 'podman --privileged sends S_IFCHR | 0600 (8576) for every host device, and runc creates them',
  },

  // Our schema is stricter, following the spec's prose.
  {
    name: 'empty annotation key',
    changes: [['/annotations/', 'x']],
    verdict: 'only ours refuses',
    why: 'config.md: annotation keys MUST NOT be an empty string',
  },
  {
    name: 'ioPriority without priority',
    changes: [['/process/ioPriority', { class: 'IOPRIO_CLASS_BE' }]],
    verdict: 'only ours refuses',
    why: 'config.md: ioPriority.priority is REQUIRED',
  },
  {
    name: 'ioPriority level 8',
    changes: [['/process/ioPriority', { class: 'IOPRIO_CLASS_BE', priority: 8 }]],
    verdict: 'only ours refuses',
    why: 'config.md: levels range from 0 to 7 (the kernel refuses others)',
  },
  {
    name: 'personality without domain',
    changes: [['/linux/personality', { flags: [] }]],
    verdict: 'only ours refuses',
    why: 'config-linux.md: personality.domain is REQUIRED',
  },
  {
    name: 'memoryPolicy without mode',
    changes: [['/linux/memoryPolicy', { nodes: '0' }]],
    verdict: 'only ours refuses',
    why: 'config-linux.md: memoryPolicy.mode is REQUIRED',
  },
  {
    name: 'throttle device without rate',
    changes: [['/linux/resources/blockIO/throttleReadBpsDevice/0', { major: 8, minor: 0 }]],
    verdict: 'only ours refuses',
    why: 'config-linux.md: rate is REQUIRED in throttle entries',
  },
  {
    name: 'weight device without any weight',
    changes: [['/linux/resources/blockIO/weightDevice/1', { major: 8, minor: 16 }]],
    verdict: 'only ours refuses',
    why: 'config-linux.md: weightDevice entries MUST specify weight or leafWeight',
  },
  {
    name: 'rdma entry without limits',
    changes: [['/linux/resources/rdma', { mlx5_1: {} }]],
    verdict: 'only ours refuses',
    why: 'config-linux.md: rdma entries MUST specify hcaHandles or hcaObjects',
  },
  {
    name: 'mount with uidMappings only',
    changes: [['/mounts/0/uidMappings', [{ containerID: 0, hostID: 1000, size: 1 }]]],
    verdict: 'only ours refuses',
    why: 'config.md: uidMappings MUST be specified along with gidMappings',
  },
  {
    name: 'seccomp listenerMetadata without listenerPath',
    changes: [['/linux/seccomp/listenerMetadata', 'opaque']],
    verdict: 'only ours refuses',
    why: 'config-linux.md: listenerMetadata MUST NOT be set if listenerPath is not set',
  },
  {
    name: 'time offset for an unknown clock',
    changes: [['/linux/timeOffsets/realtime', { secs: 1 }]],
    verdict: 'only ours refuses',
    why: 'time_namespaces(7): only the monotonic and boottime clocks can be offset',
  },
  {
    name: 'cgroup device rule of unknown type',
    changes: [['/linux/resources/devices/1/type', 'x']],
    verdict: 'only ours refuses',
    why: 'config-linux.md: type is a (all), c (char) or b (block)',
  },
  {
    name: 'cgroup device access with x',
    changes: [['/linux/resources/devices/1/access', 'rwx']],
    verdict: 'only ours refuses',
    why: 'config-linux.md: access is a composition of r, w and m',
  },
  {
    name: 'CPU list with an empty element',
    changes: [['/process/execCPUAffinity', { initial: '1,,2' }]],
    verdict: 'only ours refuses',
    why: 'config.md: a comma-separated list of CPUs with dash ranges',
  },
];

type JsonObject = Record<string, unknown>;

function isContainer(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null;
}

/** A deep copy of `document` with the mutation's changes applied (parents are created as objects when missing). */
export function applyMutation(document: unknown, mutation: Mutation): unknown {
  const copy = structuredClone(document);
  for (const [path, value] of mutation.changes) {
    const tokens = path.slice(1).split('/').map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
    const last = tokens.pop();
    if (last === undefined) throw new Error(`empty pointer in mutation "${mutation.name}"`);
    let parent: unknown = copy;
    for (const token of tokens) {
      if (!isContainer(parent)) throw new Error(`${path} does not lead into an object in mutation "${mutation.name}"`);
      parent[token] ??= {};
      parent = parent[token];
    }
    if (!isContainer(parent)) throw new Error(`${path} does not lead into an object in mutation "${mutation.name}"`);
    if (value === REMOVE) {
      if (!Object.hasOwn(parent, last)) throw new Error(`${path} does not exist in mutation "${mutation.name}"`);
      delete parent[last];
    } else {
      parent[last] = value;
    }
  }
  return copy;
}
