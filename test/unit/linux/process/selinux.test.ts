import { describe, expect, it } from 'vitest';
import { planInit } from '../../../../src/linux/init-plan.js';
import { planJoin } from '../../../../src/linux/join-plan.js';
import { resolveMountLabel, resolveSelinuxLabel, verifySelinuxLabel } from '../../../../src/linux/process/selinux.js';
import { planFinish } from '../../../../src/linux/rootfs/plan-finish.js';
import { planMounts } from '../../../../src/linux/rootfs/plan-mounts.js';
import { RecordingKernel } from '../../fakes/recording-kernel.js';
import { baseSpec, initInput, joinInput, rootfsHarness } from '../fixtures.js';
import { mustFind, render } from '../steps.js';

const LABEL = 'system_u:system_r:container_t:s0:c1,c2';
const MOUNT_LABEL = 'system_u:object_r:container_file_t:s0:c1,c2';
const field = 'process.selinuxLabel';

describe('resolveSelinuxLabel', () => {
  it('asks for nothing without a label, or with "" (as runc), and touches nothing', () => {
    const kernel = new RecordingKernel();
    expect(resolveSelinuxLabel(kernel, undefined, field)).toBeUndefined();
    expect(resolveSelinuxLabel(kernel, '', field)).toBeUndefined();
    expect(kernel.calls).toEqual([]);
  });

  it('has the kernel check the context against the loaded policy, through selinuxfs', () => {
    const kernel = new RecordingKernel({ '/sys/fs/selinux/enforce': '1' });
    expect(resolveSelinuxLabel(kernel, LABEL, field)).toBe(LABEL);
    expect(kernel.callsTo('writeFile')).toEqual([{ op: 'writeFile', path: '/sys/fs/selinux/context', data: LABEL, field }]);
  });

  it('refuses a context the policy does not define, naming the field', () => {
    const kernel = new RecordingKernel({ '/sys/fs/selinux/enforce': '0' }).failOn('writeFile', 'EINVAL');
    expect(() => resolveSelinuxLabel(kernel, 'system_u:system_r:nope_t:s0', 'linux.mountLabel')).toThrow(
      'linux.mountLabel: system_u:system_r:nope_t:s0 is not a valid SELinux context in the loaded policy (the kernel refused it at /sys/fs/selinux/context); use a context the policy defines',
    );
  });

  it('refuses any label when the kernel does not run SELinux', () => {
    expect(() => resolveSelinuxLabel(new RecordingKernel(), LABEL, field)).toThrow(
      `process.selinuxLabel: SELinux is not enabled on this host (no /sys/fs/selinux/enforce), so the label ${LABEL} cannot be applied; remove the field or run on a host with SELinux`,
    );
  });
});

describe('resolveMountLabel', () => {
  it('leaves linux.mountLabel out with a warning where the kernel does not run SELinux, as runc does', () => {
    const warnings: string[] = [];
    expect(resolveMountLabel(new RecordingKernel(), LABEL, (m) => warnings.push(m))).toBeUndefined();
    expect(warnings).toEqual([`linux.mountLabel: SELinux is not enabled on this host (no /sys/fs/selinux/enforce), so the label ${LABEL} is not applied`]);
  });

  it('still checks it against the policy where SELinux runs, and refuses an invalid one', () => {
    const warnings: string[] = [];
    const kernel = new RecordingKernel({ '/sys/fs/selinux/enforce': '1' });
    expect(resolveMountLabel(kernel, LABEL, (m) => warnings.push(m))).toBe(LABEL);
    expect(kernel.callsTo('writeFile')).toEqual([{ op: 'writeFile', path: '/sys/fs/selinux/context', data: LABEL, field: 'linux.mountLabel' }]);
    const refusing = new RecordingKernel({ '/sys/fs/selinux/enforce': '1' }).failOn('writeFile', 'EINVAL');
    expect(() => resolveMountLabel(refusing, 'nope', () => {})).toThrow('linux.mountLabel: nope is not a valid SELinux context');
    expect(warnings).toEqual([]);
  });
});

describe('verifySelinuxLabel', () => {
  it('reads the exec label back from the process, and refuses another one', () => {
    expect(() => verifySelinuxLabel(new RecordingKernel({ '/proc/7/attr/exec': `${LABEL}\0` }), 7, LABEL)).not.toThrow();
    expect(() => verifySelinuxLabel(new RecordingKernel({ '/proc/7/attr/exec': 'system_u:system_r:other_t:s0\0' }), 7, LABEL)).toThrow(
      `process.selinuxLabel: the container process (pid 7) is set to exec as "system_u:system_r:other_t:s0", not ${LABEL} (/proc/7/attr/exec)`,
    );
  });

  it('leaves the proof to the chain when the attr file may not be read (an unprivileged tsrun)', () => {
    expect(() => verifySelinuxLabel(new RecordingKernel().failOn('readFile', 'EACCES'), 7, LABEL)).not.toThrow();
  });
});

const execAttr = [
  'open("/proc/thread-self/attr/exec", O_WRONLY|O_TRUNC|O_CLOEXEC, 0o0) ?report',
  `write(3, ${JSON.stringify(LABEL)}, ${LABEL.length}) ?report`,
  'close(3) ?report',
];
const keycreateAttr = [
  'open("/proc/thread-self/attr/keycreate", O_WRONLY|O_TRUNC|O_CLOEXEC, 0o0) ?report',
  `write(3, ${JSON.stringify(LABEL)}, ${LABEL.length}) ?report`,
  'close(3) ?report',
];

describe('the SELinux label in the chains', () => {
  it('the init asks for its exec and keyring labels first, through the host procfs, before it joins its session keyring', () => {
    const lines = render(planInit(initInput(baseSpec(), { selinuxLabel: LABEL, sessionKeyring: '_ses.c1' })).steps);
    const first = mustFind(lines, execAttr[0] as string);
    expect(lines.slice(first, first + 6)).toEqual([...execAttr, ...keycreateAttr]);
    expect(first).toBeLessThan(mustFind(lines, 'checkpoint spawned'));
    expect(first + 5).toBeLessThan(mustFind(lines, /^syscall\(SYS_keyctl, 1, "_ses.c1"\)/));
  });

  it('with --no-new-keyring, it labels only what it executes', () => {
    const lines = render(planInit(initInput(baseSpec(), { selinuxLabel: LABEL })).steps);
    mustFind(lines, execAttr[0] as string);
    expect(lines.filter((l) => l.includes('keycreate'))).toEqual([]);
  });

  it('an exec process asks before it enters the container', () => {
    const { steps } = planJoin(joinInput({ selinuxLabel: LABEL }));
    const lines = render(steps);
    const first = mustFind(lines, execAttr[0] as string);
    expect(lines.slice(first, first + 6)).toEqual([...execAttr, ...keycreateAttr]);
    expect(first).toBeLessThan(mustFind(lines, 'setns(23, CLONE_NEWUSER) ?report'));
  });
});

describe('linux.mountLabel on mounts', () => {
  const mounts = [
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['mode=755'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts' },
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/sys', type: 'sysfs', source: 'sysfs' },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup' },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue' },
  ];
  const planned = (mountLabel?: string) => {
    const h = rootfsHarness(baseSpec({ mounts }), mountLabel === undefined ? {} : { mountLabel });
    planMounts(h.ctx);
    return render(h.w.steps).filter((l) => l.startsWith('mount(') || l.startsWith('setxattr('));
  };

  it('is a context= option of the filesystems that take one, after their own options; proc, sysfs and cgroup keep their labels', () => {
    expect(planned(MOUNT_LABEL)).toEqual([
      `mount("tmpfs", "/proc/self/fd/4", "tmpfs", 0, ${JSON.stringify(`mode=755,context="${MOUNT_LABEL}"`)}) ?report`,
      `mount("devpts", "/proc/self/fd/4", "devpts", 0, ${JSON.stringify(`context="${MOUNT_LABEL}"`)}) ?report`,
      'mount("proc", "/proc/self/fd/4", "proc", 0, null) ?report',
      'mount("sysfs", "/proc/self/fd/4", "sysfs", 0, null) ?report',
      'mount("cgroup", "/proc/self/fd/4", "cgroup2", 0, null) ?report',
      'mount("mqueue", "/proc/self/fd/4", "mqueue", 0, null) ?report',
      // mqueue's superblock exists before the mount: its root is labelled through the new mount's fd.
      `setxattr("/proc/self/fd/4", "security.selinux", ${JSON.stringify(MOUNT_LABEL)}, ${MOUNT_LABEL.length}, 0) ?report`,
    ]);
  });

  it('labels the read-only tmpfs that masks a directory too (as runc)', () => {
    const h = rootfsHarness(baseSpec({ linux: { maskedPaths: ['/sys/firmware'] } }), { mountLabel: MOUNT_LABEL });
    planFinish(h.ctx);
    expect(render(h.w.steps)).toContain(
      `mount("tmpfs", "/sys/firmware", "tmpfs", MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC, ${JSON.stringify(`size=0,context="${MOUNT_LABEL}"`)}) ?report tolerate=ENOENT,ENOTDIR`,
    );
  });

  it('adds nothing without a label', () => {
    expect(planned().filter((l) => l.includes('context=') || l.startsWith('setxattr'))).toEqual([]);
  });
});
