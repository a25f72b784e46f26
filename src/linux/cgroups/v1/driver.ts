// cgroup v1-only hosts: refused with a clear error until the v1 driver lands (issue 11).
import type { CgroupDriver } from '../manager.js';

export const v1Driver: CgroupDriver = {
  plan() {
    throw new Error('this host has cgroup v1 hierarchies only, and tsrun does not drive cgroup v1 yet; boot it with cgroup v2 (systemd.unified_cgroup_hierarchy=1)');
  },
  open() {
    throw new Error('this host has cgroup v1 hierarchies only, and tsrun does not drive cgroup v1 yet; boot it with cgroup v2 (systemd.unified_cgroup_hierarchy=1)');
  },
};
