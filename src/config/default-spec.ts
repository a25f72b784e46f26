// The config.json that `tsrun spec` writes: a small, locked-down container
// running `sh` on a terminal, in the same spirit as `runc spec`.

import { SPEC_VERSION } from './spec-version.js';
import type { LinuxNamespace, Mount, Spec } from './types.js';

export interface DefaultSpecOptions {
  /** Make a config an unprivileged user can run: own user namespace, no cgroup limits, host network. */
  rootless: boolean;
  /** Host uid mapped to root in the rootless container; defaults to the caller's effective uid. */
  uid?: number;
  /** Host gid mapped to root in the rootless container; defaults to the caller's effective gid. */
  gid?: number;
}

// A process gets these and nothing else: enough to write audit records, signal
// its own processes and bind low ports.
const CAPABILITIES = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

// Kernel interfaces under /proc and /sys that leak host information or let a
// container poke the host; hidden (masked) or made read-only.
const MASKED_PATHS = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/sys/devices/virtual/powercap',
  '/sys/firmware',
];
const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

function mounts(rootless: boolean): Mount[] {
  // Without a real root the container cannot mount a fresh sysfs (it belongs to
  // the host's network namespace), so it gets a read-only view of the host's.
  const sys: Mount = rootless
    ? { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
    : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] };
  // gid=5 is the conventional tty group; an unprivileged user namespace with a
  // single mapped id has no gid 5 to give pseudo-terminals.
  const devptsOptions = ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'];
  if (!rootless) devptsOptions.push('gid=5');
  return [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: devptsOptions },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    sys,
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
  ];
}

function namespaces(rootless: boolean): LinuxNamespace[] {
  // Rootless containers share the host's network: a new network namespace
  // would hold nothing but a loopback device an unprivileged user cannot wire up.
  const types: LinuxNamespace['type'][] = rootless
    ? ['pid', 'ipc', 'uts', 'mount', 'cgroup', 'user']
    : ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'];
  return types.map((type) => ({ type }));
}

export function defaultSpec(options: DefaultSpecOptions): Spec {
  const { rootless } = options;
  const spec: Spec = {
    ociVersion: SPEC_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: [...CAPABILITIES], effective: [...CAPABILITIES], permitted: [...CAPABILITIES] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'tsrun',
    mounts: mounts(rootless),
    linux: {
      namespaces: namespaces(rootless),
      maskedPaths: [...MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
    },
  };
  if (rootless) {
    // Only the caller's own ids can be mapped without privilege (and without
    // newuidmap): root inside is the caller outside.
    const uid = options.uid ?? process.geteuid?.() ?? 0;
    const gid = options.gid ?? process.getegid?.() ?? 0;
    spec.linux = {
      ...spec.linux,
      uidMappings: [{ containerID: 0, hostID: uid, size: 1 }],
      gidMappings: [{ containerID: 0, hostID: gid, size: 1 }],
    };
  } else {
    // Deny every device by default; the runtime's default devices are allowed on top.
    spec.linux = { ...spec.linux, resources: { devices: [{ allow: false, access: 'rwm' }] } };
  }
  return spec;
}
