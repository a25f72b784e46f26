import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cannotRunContainers, sandbox, shell, type ConfigObject, type Sandbox } from '../integration/support/harness.js';
import { skipUnlessRequired } from './skip-unless-required.js';

// process.selinuxLabel, linux.mountLabel and `exec --process-label`, applied by a
// kernel that runs SELinux: the cgroup2 guest booted with
//   TSRUN_VM_APPEND="security=selinux selinux=1 enforcing=0"
// (.ci/run does), with our own minimal policy (selinux/minimal.cil) loaded
// permissive. Elsewhere the file skips.

const ENFORCE = '/sys/fs/selinux/enforce';
const PROCESS_LABEL = 'system_u:system_r:container_t:s0:c1,c2';
const EXEC_LABEL = 'system_u:system_r:container_exec_t:s0:c1,c2';
const MOUNT_LABEL = 'system_u:object_r:container_file_t:s0:c1,c2';

function whyNot(): string | undefined {
  const reason = cannotRunContainers();
  if (reason !== undefined) return reason;
  if (!existsSync(ENFORCE)) {
    return 'the kernel does not run SELinux: run these in .ci/cgroup2-vm with TSRUN_VM_APPEND="security=selinux selinux=1 enforcing=0"';
  }
  if (readFileSync(ENFORCE, 'utf8').trim() !== '0') return 'SELinux is enforcing: the test policy is meant for a permissive guest';
  if (spawnSync('secilc', ['--help']).error !== undefined) return 'secilc is missing (.ci/cgroup2-vm/prepare.sh installs it)';
  return undefined;
}

const skip = skipUnlessRequired('selinux', 'test/vm/selinux.test.ts', whyNot());

/** The label of a file, as the kernel keeps it (python3's getxattr: Node has none). */
function fileLabel(path: string): string {
  const r = spawnSync('python3', ['-c', 'import os,sys; print(os.getxattr(sys.argv[1], "security.selinux").rstrip(b"\\0").decode())', path], {
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

/** The mount options of `dest` in the process's mount table (the super options carry context=). */
function mountOptions(pid: number, dest: string): string {
  const line = readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[4] === dest);
  expect(line, `${dest} is mounted`).toBeDefined();
  return line as string;
}

describe.skipIf(skip !== undefined)('SELinux labels, applied by the kernel (cgroup2 guest booted with SELinux)', () => {
  let s: Sandbox;
  beforeAll(() => {
    s = sandbox();
    const policy = join(s.dir, 'policy');
    const compile = spawnSync('secilc', ['-o', policy, '-f', '/dev/null', join(import.meta.dirname, 'selinux/minimal.cil')], { encoding: 'utf8' });
    expect(compile.status, compile.stderr).toBe(0);
    // One write of the whole binary policy, as load_policy does.
    writeFileSync('/sys/fs/selinux/load', readFileSync(policy));
    expect(readFileSync('/proc/self/attr/current', 'utf8')).toMatch(/^system_u:system_r:kernel_t:/);
  });
  afterAll(() => s.cleanup());

  const labelled = (name: string, script: string, edit: (c: ConfigObject) => void = () => {}) =>
    s.bundle(name, (c) => {
      shell(c, script);
      c.process.selinuxLabel = PROCESS_LABEL;
      c.linux.mountLabel = MOUNT_LABEL;
      edit(c);
    });

  it('the container process runs with process.selinuxLabel from its execve (under no_new_privs), as under runc', () => {
    const bundle = labelled('se-run', 'cat /proc/self/attr/current; echo', (c) => {
      // runc 1.1 (Debian 12) knows spec versions up to 1.1; the bundle is shared.
      c.ociVersion = '1.0.2';
      expect(c.process.noNewPrivileges).toBe(true);
    });
    const r = s.tsrun(['run', '--bundle', bundle, 'se-run']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.replace(/\0/g, '').trim()).toBe(PROCESS_LABEL);

    const runc = spawnSync('runc', ['--root', join(s.dir, 'runc'), 'run', '--bundle', bundle, 'se-run-runc'], { encoding: 'utf8', timeout: 60_000 });
    expect(runc.error).toBeUndefined();
    expect(runc.status, runc.stderr).toBe(0);
    expect(runc.stdout.replace(/\0/g, '').trim()).toBe(PROCESS_LABEL);
  });

  it('linux.mountLabel labels the tmpfs, devpts and mqueue mounts, not proc or sysfs; exec takes the container\'s label or --process-label', () => {
    const bundle = labelled('se-mounts', 'sleep 1000');
    expect(s.tsrun(['run', '-d', '--bundle', bundle, 'se-mounts']).status).toBe(0);
    try {
      const pid = s.pid('se-mounts');
      expect(readFileSync(`/proc/${pid}/attr/current`, 'utf8').replace(/\0/g, '').trim()).toBe(PROCESS_LABEL);
      for (const dest of ['/dev', '/dev/pts', '/dev/shm', '/tmp']) {
        expect(mountOptions(pid, dest)).toContain(`context="${MOUNT_LABEL}"`);
        expect(fileLabel(`/proc/${pid}/root${dest}`)).toBe(MOUNT_LABEL);
      }
      expect(fileLabel(`/proc/${pid}/root/dev/mqueue`)).toBe(MOUNT_LABEL);
      for (const dest of ['/proc', '/sys']) expect(mountOptions(pid, dest)).not.toContain('context=');

      const inherited = s.tsrun(['exec', 'se-mounts', 'cat', '/proc/self/attr/current']);
      expect(inherited.status, inherited.stderr).toBe(0);
      expect(inherited.stdout.replace(/\0/g, '').trim()).toBe(PROCESS_LABEL);
      const other = s.tsrun(['exec', '--process-label', EXEC_LABEL, 'se-mounts', 'cat', '/proc/self/attr/current']);
      expect(other.status, other.stderr).toBe(0);
      expect(other.stdout.replace(/\0/g, '').trim()).toBe(EXEC_LABEL);
    } finally {
      s.tsrun(['delete', '--force', 'se-mounts']);
    }
  });

  it('a context the policy does not define fails before anything exists, naming the field', () => {
    const bundle = labelled('se-bad', 'true', (c) => {
      c.process.selinuxLabel = 'system_u:system_r:no_such_t:s0';
    });
    const r = s.tsrun(['run', '--bundle', bundle, 'se-bad']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('process.selinuxLabel: system_u:system_r:no_such_t:s0 is not a valid SELinux context in the loaded policy');
    expect(existsSync(join(s.root, 'se-bad')), 'no state directory').toBe(false);
    expect(existsSync('/sys/fs/cgroup/se-bad'), 'no cgroup').toBe(false);

    const badMount = labelled('se-bad-mount', 'true', (c) => {
      c.linux.mountLabel = 'system_u:object_r:no_such_t:s0';
    });
    const m = s.tsrun(['run', '--bundle', badMount, 'se-bad-mount']);
    expect(m.status).not.toBe(0);
    expect(m.stderr).toContain('linux.mountLabel: system_u:object_r:no_such_t:s0 is not a valid SELinux context');
  });
});
