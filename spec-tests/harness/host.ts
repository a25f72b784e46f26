import { access, readFile } from 'node:fs/promises';
import { release } from 'node:os';
import { runCommand } from './exec.js';
import type { GuestBoot } from './expectations.js';

export interface HostFacts {
  readonly kernel: string;
  readonly cgroups: string;
  readonly node: string;
}

export async function hostFacts(): Promise<HostFacts> {
  return { kernel: release(), cgroups: await cgroupLayout(), node: process.version };
}

/** The suite's cgroup checks depend on it: its readers find the first cgroup v1 mount. */
async function cgroupLayout(): Promise<string> {
  let mountinfo: string;
  try {
    mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  } catch {
    return 'unknown';
  }
  const types = new Set(
    mountinfo
      .split('\n')
      .map((line) => line.split(' - ')[1]?.split(' ')[0])
      .filter((type) => type === 'cgroup' || type === 'cgroup2'),
  );
  if (types.has('cgroup') && types.has('cgroup2')) return 'hybrid (cgroup v1 controllers and a cgroup2 mount)';
  if (types.has('cgroup2')) return 'cgroup v2 (unified)';
  if (types.has('cgroup')) return 'cgroup v1';
  return 'none mounted';
}

/**
 * Which boot of .ci/cgroup2-vm this guest is, read from what is mounted and what runs rather
 * than told, so a run cannot judge the programs of one boot in another: cgroup2 at
 * /sys/fs/cgroup is the pure cgroup v2 boot, anything else a v1 one, and a v1 one on a kernel
 * before 6.1 (which still applies memory.kmem.limit_in_bytes) the kmem one. (The same release
 * rule as tsrun's v1 driver, written again here: the harness imports none of the code it judges.)
 */
export async function guestBoot(): Promise<GuestBoot> {
  try {
    await access('/sys/fs/cgroup/cgroup.controllers');
    return 'cgroup-v2';
  } catch {
    const [major = 0, minor = 0] = release().split(/[.-]/).map(Number);
    return major < 6 || (major === 6 && minor < 1) ? 'cgroup-v1-kmem' : 'cgroup-v1';
  }
}

/** The commit of the tsrun sources (short hash, "+dirty" when the work tree differs). */
export async function gitCommit(repo: string): Promise<string> {
  const head = await runCommand('git', ['-C', repo, 'rev-parse', '--short', '--verify', '--quiet', 'HEAD']);
  if (head.spawnError !== null) return `unknown (${head.spawnError})`;
  if (head.code !== 0) return 'no commit yet';
  const status = await runCommand('git', ['-C', repo, 'status', '--porcelain', '--untracked-files=no']);
  return head.stdout.trim() + (status.stdout.trim() !== '' ? '+dirty' : '');
}
