import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { cgroupLayout, type CgroupLayout } from '../../../../../src/linux/cgroups/layout.js';
import { parseMountInfo } from '../../../../../src/linux/mountinfo.js';
import { RecordingKernel } from '../../../fakes/recording-kernel.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A v1 host whose cgroup mounts live in a fresh directory (real, so that existsSync and readdirSync see them). */
export interface FakeHost {
  readonly root: string;
  readonly layout: CgroupLayout;
  /** /proc/self/cgroup of tsrun on that host. */
  readonly procSelfCgroup: string;
  /** /proc/self/mountinfo of that host. */
  readonly mountinfo: string;
  /** The mount point of a hierarchy, by its name ("memory", "name=systemd", "" for cgroup2). */
  mount(name: string): string;
  /** What the cgroup2 root's cgroup.controllers lists, if there is a cgroup2 tree. */
  readonly unifiedControllers: readonly string[] | undefined;
}

export interface HostShape {
  /** Hierarchy names, each a mount: "cpu,cpuacct", "memory", "name=systemd"... */
  readonly v1: readonly string[];
  /** Mount a cgroup2 tree beside them (hybrid), with these controllers. */
  readonly unified?: readonly string[];
  /** tsrun's own cgroup in some hierarchies (others: "/"). */
  readonly own?: Readonly<Record<string, string>>;
}

/** This machine: separate cpu and cpuacct, cgroup2 with hugetlb only, tsrun in a memory cgroup of the host's. */
export const THIS_HOST: HostShape = {
  v1: ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'name=systemd'],
  unified: ['hugetlb'],
  own: { memory: '/process_api/abc' },
};

/** A legacy host as most distributions mounted v1: cpu and cpuacct together, net_cls and net_prio together, no cgroup2. */
export const LEGACY_HOST: HostShape = {
  v1: ['cpu,cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'hugetlb', 'net_cls,net_prio', 'rdma', 'name=systemd'],
  own: { 'name=systemd': '/user.slice/session-1.scope' },
};

export function fakeHost(shape: HostShape = THIS_HOST): FakeHost {
  const root = mkdtempSync(join(tmpdir(), 'tsrun-v1-unit-'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  const mountName = (name: string) => (name === '' ? 'unified' : name.replace('name=', ''));
  const mount = (name: string) => join(root, mountName(name));
  const lines = ['22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw', `31 22 0:26 / ${root} rw shared:2 - tmpfs tmpfs rw`];
  shape.v1.forEach((name, i) => {
    lines.push(`${40 + i} 31 0:${40 + i} / ${mount(name)} rw,nosuid,nodev,noexec,relatime shared:${10 + i} - cgroup cgroup rw,${name}`);
    mkdirSync(mount(name));
  });
  if (shape.unified !== undefined) {
    lines.push(`60 31 0:60 / ${mount('')} rw,nosuid,nodev,noexec,relatime shared:30 - cgroup2 cgroup2 rw,nsdelegate`);
    mkdirSync(mount(''));
    writeFileSync(join(mount(''), 'cgroup.controllers'), `${shape.unified.join(' ')}\n`);
  }
  const own = shape.own ?? {};
  for (const [name, path] of Object.entries(own)) mkdirSync(join(mount(name), path), { recursive: true });
  const proc = shape.v1.map((name, i) => `${shape.v1.length - i}:${name}:${own[name] ?? '/'}`);
  if (shape.unified !== undefined) proc.push('0::/');
  const mountinfo = `${lines.join('\n')}\n`;
  return { root, layout: cgroupLayout(parseMountInfo(mountinfo)), procSelfCgroup: `${proc.join('\n')}\n`, mountinfo, mount, unifiedControllers: shape.unified };
}

/**
 * A RecordingKernel that behaves like cgroupfs where the driver reads
 * back what it relies on: a new cpuset cgroup has empty cpuset.cpus and
 * cpuset.mems, whose parents' values the host gives.
 */
export class FakeCgroupfs extends RecordingKernel {
  constructor(
    private readonly host: FakeHost,
    files: Record<string, string> = {},
  ) {
    super({
      [join(host.mount('cpuset'), 'cpuset.cpus')]: '0-1\n',
      [join(host.mount('cpuset'), 'cpuset.mems')]: '0\n',
      ...(host.unifiedControllers === undefined ? {} : { [join(host.mount(''), 'cgroup.controllers')]: `${host.unifiedControllers.join(' ')}\n` }),
      ...files,
    });
  }

  override mkdir(path: string): void {
    super.mkdir(path);
    if (path.startsWith(`${this.host.mount('cpuset')}/`)) {
      this.files.set(join(path, 'cpuset.cpus'), '\n');
      this.files.set(join(path, 'cpuset.mems'), '\n');
    }
  }
}
