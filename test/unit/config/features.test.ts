import { describe, expect, it } from 'vitest';
import { features } from '../../../src/config/features.js';
import { CAPABILITIES } from '../../../src/config/linux-names.js';
import { SPEC_VERSION } from '../../../src/config/spec-version.js';
import { officialValidator } from './support/official-spec.js';
import { sharedSpecMissing } from './support/paths.js';

describe('features', () => {
  it.skipIf(sharedSpecMissing !== undefined)('is valid against the official features schema', () => {
    const validate = officialValidator('features-schema.json');
    expect(validate(features()), JSON.stringify(validate.errors)).toBe(true);
  });

  it.skipIf(sharedSpecMissing !== undefined)('would be refused by the official schema if it claimed an unknown namespace', () => {
    const claimed = features();
    claimed.linux.namespaces.push('process');
    expect(officialValidator('features-schema.json')(claimed)).toBe(false);
  });

  it('spans runtime-spec 1.0.0 to the version tsrun implements', () => {
    expect(features()).toMatchObject({ ociVersionMin: '1.0.0', ociVersionMax: SPEC_VERSION });
    expect(SPEC_VERSION).toBe('1.3.0');
  });

  it('lists every hook, namespace and capability', () => {
    const { hooks, linux } = features();
    expect(hooks).toEqual(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
    expect([...linux.namespaces].sort()).toEqual(['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts']);
    expect(linux.capabilities).toHaveLength(41);
    expect(linux.capabilities[0]).toBe('CAP_CHOWN');
    expect(linux.capabilities[40]).toBe('CAP_CHECKPOINT_RESTORE');
    expect(new Set(linux.capabilities).size).toBe(CAPABILITIES.length);
  });

  it('claims cgroup v1 and v2, systemd (its user instance too), seccomp through libseccomp, AppArmor and SELinux, and no RDT support yet', () => {
    expect(features().linux).toMatchObject({
      cgroup: { v1: true, v2: true, systemd: true, systemdUser: true },
      seccomp: { enabled: true, supportedFlags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] },
      apparmor: { enabled: true },
      selinux: { enabled: true },
      intelRdt: { enabled: false },
    });
    expect(features().linux.seccomp.actions).toContain('SCMP_ACT_NOTIFY');
  });

  it('recognises the mount options every runtime must', () => {
    const { mountOptions } = features();
    for (const option of ['bind', 'rbind', 'ro', 'rw', 'nosuid', 'nodev', 'noexec', 'rprivate', 'rslave', 'rshared', 'remount']) {
      expect(mountOptions).toContain(option);
    }
    expect(new Set(mountOptions).size).toBe(mountOptions.length);
  });
});
