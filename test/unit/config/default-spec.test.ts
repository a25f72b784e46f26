import './support/ensure-validator.js';
import { describe, expect, it } from 'vitest';
import { defaultSpec } from '../../../src/config/default-spec.js';
import { SPEC_VERSION } from '../../../src/config/spec-version.js';
import { validateSpec } from '../../../src/config/validate.js';
import { officialValidator } from './support/official-spec.js';
import { sharedSpecMissing } from './support/paths.js';

const variants = [
  ['default', defaultSpec({ rootless: false })],
  ['rootless', defaultSpec({ rootless: true, uid: 1000, gid: 1001 })],
] as const;

describe('defaultSpec', () => {
  it.each(variants)('%s: passes our schema and semantic rules without warnings', (_, spec) => {
    const warnings: string[] = [];
    expect(validateSpec(spec, { onWarning: (line) => warnings.push(line) })).toBe(spec);
    expect(warnings).toEqual([]);
  });

  it.skipIf(sharedSpecMissing !== undefined).each(variants)('%s: passes the official schema', (_, spec) => {
    const validate = officialValidator('config-schema.json');
    expect(validate(spec), JSON.stringify(validate.errors)).toBe(true);
  });

  it.each(variants)('%s: runs sh on a terminal as root with a small capability set', (_, spec) => {
    expect(spec.ociVersion).toBe(SPEC_VERSION);
    expect(spec.process).toMatchObject({
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      cwd: '/',
      noNewPrivileges: true,
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
    });
    expect(spec.process?.env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm']);
    const capabilities = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
    expect(spec.process?.capabilities).toEqual({ bounding: capabilities, effective: capabilities, permitted: capabilities });
    expect(spec.root).toEqual({ path: 'rootfs', readonly: true });
    expect(spec.hostname).toBe('tsrun');
    expect(spec.mounts?.map((mount) => mount.destination)).toEqual([
      '/proc',
      '/dev',
      '/dev/pts',
      '/dev/shm',
      '/dev/mqueue',
      '/sys',
      '/sys/fs/cgroup',
    ]);
    expect(spec.linux?.maskedPaths).toContain('/proc/kcore');
    expect(spec.linux?.readonlyPaths).toContain('/proc/sys');
  });

  it('default: own namespaces including network, no user namespace, all devices denied', () => {
    const spec = defaultSpec({ rootless: false });
    expect(spec.linux?.namespaces?.map((namespace) => namespace.type)).toEqual(['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup']);
    expect(spec.linux?.uidMappings).toBeUndefined();
    expect(spec.linux?.resources?.devices).toEqual([{ allow: false, access: 'rwm' }]);
    expect(spec.mounts?.find((mount) => mount.destination === '/sys')).toMatchObject({ type: 'sysfs', source: 'sysfs' });
    expect(spec.mounts?.find((mount) => mount.destination === '/dev/pts')?.options).toContain('gid=5');
  });

  it('rootless: a user namespace mapping root to the given ids, the host network and sysfs, no cgroup limits', () => {
    const spec = defaultSpec({ rootless: true, uid: 1000, gid: 1001 });
    expect(spec.linux?.namespaces?.map((namespace) => namespace.type)).toEqual(['pid', 'ipc', 'uts', 'mount', 'cgroup', 'user']);
    expect(spec.linux?.uidMappings).toEqual([{ containerID: 0, hostID: 1000, size: 1 }]);
    expect(spec.linux?.gidMappings).toEqual([{ containerID: 0, hostID: 1001, size: 1 }]);
    expect(spec.linux?.resources).toBeUndefined();
    expect(spec.mounts?.find((mount) => mount.destination === '/sys')).toEqual({
      destination: '/sys',
      type: 'none',
      source: '/sys',
      options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
    });
    const options = spec.mounts?.flatMap((mount) => mount.options ?? []) ?? [];
    expect(options.filter((option) => option.startsWith('gid=') || option.startsWith('uid='))).toEqual([]);
  });

  it("rootless: maps the caller's own ids by default", () => {
    const spec = defaultSpec({ rootless: true });
    expect(spec.linux?.uidMappings?.[0]?.hostID).toBe(process.geteuid?.());
    expect(spec.linux?.gidMappings?.[0]?.hostID).toBe(process.getegid?.());
  });

  it('returns a fresh object each time, so callers may edit it', () => {
    const first = defaultSpec({ rootless: false });
    first.process?.capabilities?.bounding?.push('CAP_SYS_ADMIN');
    first.linux?.maskedPaths?.pop();
    expect(defaultSpec({ rootless: false })).not.toEqual(first);
    expect(defaultSpec({ rootless: false }).process?.capabilities?.bounding).toHaveLength(3);
  });
});
