// What `tsrun features` prints: the runtime-spec "features" document telling
// callers (containerd, podman, ...) which parts of config.json tsrun
// understands. It describes tsrun itself, not the host, so it is fixed data.
// Keep it in step with what the runtime actually implements.

import { CAPABILITIES, HOOK_NAMES, NAMESPACE_TYPES } from './linux-names.js';
import { SPEC_VERSION } from './spec-version.js';

// The Linux mount options the spec says runtimes MUST or SHOULD recognise;
// idmap/ridmap (id-mapped mounts) and tmpcopyup are not implemented.
const MOUNT_OPTIONS = [
  'async',
  'atime',
  'bind',
  'defaults',
  'dev',
  'diratime',
  'dirsync',
  'exec',
  'iversion',
  'lazytime',
  'loud',
  'noatime',
  'nodev',
  'nodiratime',
  'noexec',
  'noiversion',
  'nolazytime',
  'norelatime',
  'nostrictatime',
  'nosuid',
  'nosymfollow',
  'private',
  'ratime',
  'rbind',
  'rdev',
  'rdiratime',
  'relatime',
  'remount',
  'rexec',
  'rnoatime',
  'rnodev',
  'rnodiratime',
  'rnoexec',
  'rnorelatime',
  'rnostrictatime',
  'rnosuid',
  'rnosymfollow',
  'ro',
  'rprivate',
  'rrelatime',
  'rro',
  'rrw',
  'rshared',
  'rslave',
  'rstrictatime',
  'rsuid',
  'rsymfollow',
  'runbindable',
  'rw',
  'shared',
  'silent',
  'slave',
  'strictatime',
  'suid',
  'symfollow',
  'sync',
  'unbindable',
];

export interface Features {
  ociVersionMin: string;
  ociVersionMax: string;
  hooks: string[];
  mountOptions: string[];
  linux: {
    namespaces: string[];
    capabilities: string[];
    cgroup: { v1: boolean; v2: boolean; systemd: boolean; systemdUser: boolean };
    seccomp: { enabled: boolean };
    apparmor: { enabled: boolean };
    selinux: { enabled: boolean };
    intelRdt: { enabled: boolean };
  };
}

export function features(): Features {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: SPEC_VERSION,
    // startContainer hooks are refused until they can run with the container's identity.
    hooks: HOOK_NAMES.filter((name) => name !== 'startContainer'),
    mountOptions: [...MOUNT_OPTIONS],
    linux: {
      namespaces: [...NAMESPACE_TYPES],
      capabilities: [...CAPABILITIES],
      cgroup: { v1: false, v2: true, systemd: false, systemdUser: false },
      seccomp: { enabled: false },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
    },
  };
}
