import { describe, expect, it } from 'vitest';
import { isPlacementFrozen } from '../../../../src/linux/cgroups/frozen.js';
import { RecordingKernel } from '../../fakes/recording-kernel.js';

const V2 = { version: 2, dirs: { '': '/sys/fs/cgroup/c1' }, createdParents: [] } as const;
const V1 = {
  version: 1,
  dirs: { 'cpu,cpuacct': '/sys/fs/cgroup/cpu,cpuacct/c1', freezer: '/sys/fs/cgroup/freezer/c1', '': '/sys/fs/cgroup/unified/c1' },
  createdParents: [],
} as const;

describe('isPlacementFrozen', () => {
  it('reads cgroup.freeze on cgroup v2', () => {
    expect(isPlacementFrozen(V2, new RecordingKernel({ '/sys/fs/cgroup/c1/cgroup.freeze': '1\n' }))).toBe(true);
    expect(isPlacementFrozen(V2, new RecordingKernel({ '/sys/fs/cgroup/c1/cgroup.freeze': '0\n' }))).toBe(false);
  });

  it("reads the v1 freezer hierarchy's state, not the unified tree's", () => {
    const frozen = new RecordingKernel({
      '/sys/fs/cgroup/freezer/c1/freezer.state': 'FROZEN\n',
      '/sys/fs/cgroup/freezer/c1/freezer.self_freezing': '1\n',
      '/sys/fs/cgroup/unified/c1/cgroup.freeze': '0\n',
    });
    expect(isPlacementFrozen(V1, frozen)).toBe(true);
    expect(frozen.summary()).not.toContain('readFile /sys/fs/cgroup/unified/c1/cgroup.freeze');
    expect(isPlacementFrozen(V1, new RecordingKernel({ '/sys/fs/cgroup/freezer/c1/freezer.state': 'THAWED\n' }))).toBe(false);
  });

  it('takes a v1 placement without a freezer hierarchy, or a cgroup without the file, for not paused', () => {
    const { freezer: _none, ...dirs } = V1.dirs;
    expect(isPlacementFrozen({ ...V1, dirs }, new RecordingKernel())).toBe(false);
    expect(isPlacementFrozen(V2, new RecordingKernel())).toBe(false);
  });
});
