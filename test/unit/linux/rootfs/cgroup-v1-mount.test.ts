import { describe, expect, it } from 'vitest';
import { planMounts } from '../../../../src/linux/rootfs/plan-mounts.js';
import { baseSpec, rootfsHarness } from '../fixtures.js';
import { render } from '../steps.js';

const DIRS = {
  'cpu,cpuacct': '/sys/fs/cgroup/cpu,cpuacct/c1',
  memory: '/sys/fs/cgroup/memory/process_api/c1',
  'name=systemd': '/sys/fs/cgroup/systemd/c1',
  '': '/sys/fs/cgroup/unified/c1',
};

function plan(options: string[], cgroupV1Dirs: Readonly<Record<string, string>> | null = DIRS): string[] {
  const h = rootfsHarness(baseSpec({ mounts: [{ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options }] }), {
    ...(cgroupV1Dirs === null ? {} : { cgroupV1Dirs }),
  });
  planMounts(h.ctx);
  return render(h.w.steps);
}

describe('a "cgroup" mount on a cgroup v1 host', () => {
  it('is a tmpfs holding a bind of the container\'s own cgroup per v1 hierarchy, named as runc names them', () => {
    const lines = plan(['nosuid', 'noexec', 'nodev', 'relatime']);
    expect(lines.filter((l) => l.startsWith('mount('))).toEqual([
      'mount("tmpfs", "/proc/self/fd/4", "tmpfs", MS_NOSUID|MS_NODEV|MS_NOEXEC, "mode=755") ?report',
      'mount("/sys/fs/cgroup/cpu,cpuacct/c1", "/proc/self/fd/4", null, MS_BIND, null) ?report tolerate=ENOENT',
      'mount(null, "/proc/self/fd/4", null, MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND, null) ?report tolerate=EINVAL',
      'mount("/sys/fs/cgroup/memory/process_api/c1", "/proc/self/fd/4", null, MS_BIND, null) ?report tolerate=ENOENT',
      'mount(null, "/proc/self/fd/4", null, MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND, null) ?report tolerate=EINVAL',
      'mount("/sys/fs/cgroup/systemd/c1", "/proc/self/fd/4", null, MS_BIND, null) ?report tolerate=ENOENT',
      'mount(null, "/proc/self/fd/4", null, MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT|MS_BIND, null) ?report tolerate=EINVAL',
    ]);
    for (const name of ['cpu,cpuacct', 'memory', 'systemd']) expect(lines).toContain(`mkdirat(4, "${name}", 0o755) ?report tolerate=EEXIST`);
    // As in runc, a hybrid host's cgroup2 tree is not part of the v1 view.
    expect(lines.some((l) => l.includes('unified'))).toBe(false);
    expect(lines).toContain('symlinkat("cpu,cpuacct", 4, "cpu") ?report tolerate=EEXIST');
    expect(lines).toContain('symlinkat("cpu,cpuacct", 4, "cpuacct") ?report tolerate=EEXIST');
    expect(lines.some((l) => l.includes('"cgroup2"'))).toBe(false);
  });

  it('"ro" makes every bind and the tmpfs read-only', () => {
    const mounts = plan(['ro', 'nosuid']).filter((l) => l.startsWith('mount(null'));
    expect(mounts.slice(0, 3).every((l) => l.includes('MS_RDONLY|') || l.includes('|MS_RDONLY'))).toBe(true);
    expect(mounts.at(-1)).toBe('mount(null, "/proc/self/fd/4", null, MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_REMOUNT, "mode=755") ?report');
  });

  it('on a cgroup v2 host stays a cgroup2 mount', () => {
    const lines = plan(['nosuid'], null);
    expect(lines.filter((l) => l.startsWith('mount('))).toEqual(['mount("cgroup", "/proc/self/fd/4", "cgroup2", MS_NOSUID, null) ?report']);
  });
});
