import { afterEach, describe, expect, it, vi } from 'vitest';
import { RecordingKernel } from '../../../fakes/recording-kernel.js';

// cgroup2.ts finds the cgroup2 mount in /proc/self/mountinfo: each test puts
// the host it needs there.
const fake = vi.hoisted(() => ({ files: undefined as Record<string, string> | undefined }));

vi.mock('node:fs', async (importOriginal) => {
  const { withReadFileOverlay } = await import('../../../fakes/read-file-overlay.js');
  return withReadFileOverlay(await importOriginal<typeof import('node:fs')>(), () => fake.files);
});

const { applyResources, checkResources } = await import('../../../../../src/linux/cgroups/v2/cgroup2.js');

afterEach(() => {
  fake.files = undefined;
});

function host(mountinfo: string[]): void {
  fake.files = { '/proc/self/mountinfo': `${mountinfo.join('\n')}\n` };
}

const HYBRID = [
  '22 1 8:1 / / rw - ext4 /dev/sda1 rw',
  '35 30 0:30 / /sys/fs/cgroup/memory rw,nosuid shared:10 - cgroup cgroup rw,memory',
  '41 30 0:38 / /sys/fs/cgroup/unified rw,nosuid shared:9 - cgroup2 cgroup2 rw',
];
const PURE = ['22 1 8:1 / / rw - ext4 /dev/sda1 rw', '31 30 0:27 / /sys/fs/cgroup rw,nosuid shared:8 - cgroup2 cgroup2 rw,nsdelegate'];

describe('checkResources (before anything exists)', () => {
  it('refuses a memory limit on the hybrid host, naming the v1 hierarchy that owns the controller', () => {
    host(HYBRID);
    const kernel = new RecordingKernel({ '/sys/fs/cgroup/unified/cgroup.controllers': 'hugetlb\n' });
    expect(() => checkResources(kernel, { memory: { limit: 1 << 30 } })).toThrow(
      'linux.resources.memory.limit needs the cgroup v2 memory controller, which is not available in /sys/fs/cgroup/unified (cgroup.controllers: hugetlb): on this hybrid host the cgroup v1 hierarchy at /sys/fs/cgroup/memory owns it',
    );
  });

  it('reads nothing from the host for a config without limits, and refuses v2-impossible fields without reading either', () => {
    const kernel = new RecordingKernel();
    expect(checkResources(kernel, { devices: [{ allow: false, access: 'rwm' }] })).toEqual({ writes: [], ignored: [] });
    expect(() => checkResources(kernel, { cpu: { realtimePeriod: 1 } })).toThrow(/realtimePeriod/);
    expect(kernel.calls).toEqual([]);
  });

  it('returns the writes to make and the ignored fields', () => {
    host(PURE);
    const kernel = new RecordingKernel({ '/sys/fs/cgroup/cgroup.controllers': 'cpu memory pids' });
    const plan = checkResources(kernel, { memory: { limit: 100, disableOOMKiller: true }, pids: { limit: 5 } });
    expect(plan.writes.map((w) => w.file)).toEqual(['pids.max', 'memory.max']);
    expect(plan.ignored).toHaveLength(1);
  });
});

describe('applyResources', () => {
  it('enables the controllers from the root down, then writes the files into the cgroup', () => {
    host(PURE);
    const kernel = new RecordingKernel({ '/sys/fs/cgroup/cgroup.subtree_control': 'cpu', '/sys/fs/cgroup/a/cgroup.subtree_control': '' });
    const plan = checkResources(new RecordingKernel({ '/sys/fs/cgroup/cgroup.controllers': 'cpu memory pids' }), { memory: { limit: 100 } });
    applyResources(kernel, '/sys/fs/cgroup/a/c1', plan.writes);
    expect(kernel.summary()).toEqual([
      'readFile /sys/fs/cgroup/cgroup.subtree_control',
      'writeFile /sys/fs/cgroup/cgroup.subtree_control',
      'readFile /sys/fs/cgroup/a/cgroup.subtree_control',
      'writeFile /sys/fs/cgroup/a/cgroup.subtree_control',
      'writeFile /sys/fs/cgroup/a/c1/memory.max',
    ]);
    expect(kernel.files.get('/sys/fs/cgroup/a/cgroup.subtree_control')).toBe('+memory');
  });
});
