import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { hostKernel } from '../../ffi/host-kernel.js';
import type { LinuxResources } from '../../src/config/types.js';
import { cgroupLayout, parseProcCgroup, type CgroupLayout } from '../../src/linux/cgroups/layout.js';
import type { ContainerCgroup } from '../../src/linux/cgroups/manager.js';
import { v1Driver } from '../../src/linux/cgroups/v1/driver.js';

// The v1 driver on this host's real cgroups, with no container around it:
// each test puts a plain child process (sleep, or a shell waiting for a
// line on stdin) into cgroups made for it, checks what the kernel shows,
// and destroys them. Only cgroups made here are touched.

function whyNot(): string | undefined {
  if (process.geteuid?.() !== 0) return 'not root';
  let layout: CgroupLayout;
  try {
    layout = cgroupLayout();
  } catch (error) {
    return (error as Error).message;
  }
  if (layout.kind === 'unified') return 'this host has cgroup v2 alone (no v1 hierarchy)';
  const missing = ['memory', 'pids', 'cpu', 'cpuset', 'freezer', 'devices'].filter((c) => !layout.v1.some((h) => h.controllers.includes(c)));
  if (missing.length > 0) return `no v1 hierarchy carries ${missing.join(', ')}`;
  return undefined;
}
const skip = whyNot();
if (skip !== undefined) console.warn(`skipping the cgroup v1 driver tests: ${skip}`);

const PREFIX = `tsrun-v1-test-${process.pid}`;
let serial = 0;
const children: ChildProcess[] = [];
const cgroups: ContainerCgroup[] = [];

/** A child that waits for a line on stdin, then runs `script`: it is in its cgroups before the script starts. */
function shell(script: string): { child: ChildProcess; output: () => { stdout: string; stderr: string }; go(): void; exited: Promise<number | null> } {
  const child = spawn('/bin/sh', ['-c', `read line; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal === null ? code : -1)));
  return { child, output: () => ({ stdout, stderr }), go: () => child.stdin?.end('go\n'), exited };
}

function sleeper(): ChildProcess {
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  children.push(child);
  return child;
}

/** Plan, create and limit cgroups for `pid`, as create does at the spawned checkpoint. */
function cgroupFor(pid: number, resources: LinuxResources | undefined, cgroupsPath?: string): ContainerCgroup {
  const id = `${PREFIX}-${serial++}`;
  const planned = v1Driver.plan(hostKernel, { id, cgroupsPath, resources, systemd: false }, cgroupLayout());
  const cgroup = planned.create(pid);
  cgroups.push(cgroup);
  planned.applyLimits();
  return cgroup;
}

const read = (dir: string | undefined, file: string) => readFileSync(join(dir ?? '/nonexistent', file), 'utf8').trim();

async function destroyed(cgroup: ContainerCgroup): Promise<void> {
  expect(await cgroup.destroy()).toEqual([]);
  for (const dir of [...Object.values(cgroup.placement.dirs), ...cgroup.placement.createdParents]) expect(existsSync(dir), dir).toBe(false);
}

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  for (const cgroup of cgroups) await cgroup.destroy();
  // Anything a failed test left behind, in every hierarchy.
  if (skip !== undefined) return;
  const layout = cgroupLayout();
  for (const hierarchy of [...layout.v1, ...(layout.unified === undefined ? [] : [layout.unified])]) {
    const sweep = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        const path = join(dir, entry.name);
        if (entry.name.startsWith(PREFIX)) removeAll(path);
        else if (path.split('/').length - hierarchy.mountPoint.split('/').length < 3) sweep(path);
      }
    };
    sweep(hierarchy.mountPoint);
  }
});

function removeAll(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) removeAll(join(dir, entry.name));
  try {
    rmdirSync(dir);
  } catch {
    // still busy: the processes were killed above and are on their way out
  }
}

describe.skipIf(skip !== undefined)('the cgroup v1 driver on this host', () => {
  it('puts the process into a cgroup of every hierarchy, where the limits read back, and destroy removes them all', async () => {
    const child = sleeper();
    const pid = child.pid as number;
    const cgroup = cgroupFor(pid, { memory: { limit: 33554432 }, pids: { limit: 16 }, cpu: { quota: 20000, period: 100000, cpus: '0' } }, `${PREFIX}-nested/c`);
    const { dirs, createdParents } = cgroup.placement;
    const layout = cgroupLayout();
    expect(Object.keys(dirs).sort()).toEqual([...layout.v1.map((h) => h.name), ...(layout.unified === undefined ? [] : [''])].sort());
    expect(createdParents).toHaveLength(Object.keys(dirs).length);

    const procCgroup = parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
    for (const [name, dir] of Object.entries(dirs)) {
      expect(read(dir, 'cgroup.procs').split('\n'), dir).toContain(String(pid));
      expect(procCgroup.get(name), name).toMatch(new RegExp(`/${PREFIX}-nested/c$`));
    }
    const dirOf = (controller: string) => dirs[layout.v1.find((h) => h.controllers.includes(controller))?.name ?? ''];
    expect(read(dirOf('memory'), 'memory.limit_in_bytes')).toBe('33554432');
    expect(read(dirOf('pids'), 'pids.max')).toBe('16');
    expect(read(dirOf('cpu'), 'cpu.cfs_quota_us')).toBe('20000');
    expect(read(dirOf('cpuset'), 'cpuset.cpus')).toBe('0');
    // The parent create made got its parent's cpus and mems, or the process could not have joined.
    expect(read(join(dirOf('cpuset') as string, '..'), 'cpuset.mems')).not.toBe('');
    expect(cgroup.pids()).toEqual([pid]);

    await destroyed(cgroup);
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.on('exit', resolve)));
    expect(child.signalCode).toBe('SIGKILL');
  });

  it('updates memory and memory+swap downwards and upwards, and refuses a limit below the usage where checkBeforeUpdate asks', async () => {
    // Memory charged before the join stays with the old cgroup (v1 does not move charges): the shell allocates after it.
    const sh = shell('v=$(head -c 4000000 /dev/zero | tr "\\0" a); echo ready; sleep 1000');
    const cgroup = cgroupFor(sh.child.pid as number, { memory: { limit: 67108864, swap: 67108864 } });
    sh.go();
    while (!sh.output().stdout.includes('ready')) await sleep(10);
    const memory = cgroup.placement.dirs[cgroupLayout().v1.find((h) => h.controllers.includes('memory'))?.name ?? ''];
    const limits = () => [read(memory, 'memory.limit_in_bytes'), read(memory, 'memory.memsw.limit_in_bytes')];
    const update = (m: NonNullable<LinuxResources['memory']>) => cgroup.update({ memory: m }, { memory: m });
    await update({ limit: 33554432, swap: 33554432 });
    expect(limits()).toEqual(['33554432', '33554432']);
    await update({ limit: 134217728, swap: 268435456 });
    expect(limits()).toEqual(['134217728', '268435456']);
    await update({ limit: -1 });
    expect(limits()).toEqual(['9223372036854771712', '9223372036854771712']);
    await expect(update({ limit: 4096, checkBeforeUpdate: true })).rejects.toThrow(/^linux\.resources\.memory\.limit: 4096 bytes is not above the container's current usage/);
    // Without the check, the v1 kernel refuses it itself once it cannot reclaim enough.
    await expect(update({ limit: 4096 })).rejects.toThrow(/memory\.limit_in_bytes \(linux\.resources\.memory\.limit\): EBUSY .*: the container uses \d+ bytes/);
    await destroyed(cgroup);
  });

  it('lets the OOM killer kill a memory hog over the limit, and counts it', async () => {
    const hog = shell('head -c 200m /dev/zero | tail');
    const cgroup = cgroupFor(hog.child.pid as number, { memory: { limit: 33554432, swap: 33554432 } });
    expect(cgroup.oomKills()).toBe(0);
    hog.go();
    const code = await hog.exited;
    expect(code).not.toBe(0);
    expect(cgroup.oomKills()).toBeGreaterThanOrEqual(1);
    // The peak reached the limit (this kernel leaves memory.failcnt at 0 on an OOM kill).
    expect((cgroup.stats() as unknown as { memory: { usage: { max: bigint } } }).memory.usage.max).toBeGreaterThan(33554432n / 2n);
    await destroyed(cgroup);
  });

  it('stops forks beyond pids.max', async () => {
    const sh = shell('(echo child); echo parent');
    const cgroup = cgroupFor(sh.child.pid as number, { pids: { limit: 1 } });
    sh.go();
    await sh.exited;
    expect(sh.output().stdout).not.toContain('child');
    expect(sh.output().stderr).toMatch(/fork/i);
    await destroyed(cgroup);
  });

  it('freezes and thaws every process', async () => {
    const ticker = shell('while :; do echo x; sleep 0.05; done');
    const cgroup = cgroupFor(ticker.child.pid as number, undefined);
    ticker.go();
    await sleep(200);
    await cgroup.setFrozen(true);
    expect(cgroup.isFrozen()).toBe(true);
    const freezer = cgroup.placement.dirs[cgroupLayout().v1.find((h) => h.controllers.includes('freezer'))?.name ?? ''];
    expect(read(freezer, 'freezer.state')).toBe('FROZEN');
    // A frozen task shows as uninterruptible ("D") in /proc.
    expect(readFileSync(`/proc/${ticker.child.pid}/status`, 'utf8')).toMatch(/^State:\s+D/m);
    const before = ticker.output().stdout.length;
    await sleep(300);
    expect(ticker.output().stdout.length).toBe(before);
    await cgroup.setFrozen(false);
    expect(cgroup.isFrozen()).toBe(false);
    await sleep(300);
    expect(ticker.output().stdout.length).toBeGreaterThan(before);
    // destroy kills what runs, frozen or not.
    await cgroup.setFrozen(true);
    await destroyed(cgroup);
  });

  it('denies the devices the rules do not allow, and allows the defaults and the rules\' devices', async () => {
    // dd opens the device and reads nothing (count=0), so the open alone decides.
    const script = 'dd if=/dev/kmsg of=/dev/null count=0 2>/dev/null && echo kmsg-opened; dd if=/dev/kmsg of=/dev/null count=0 2>&1 | grep -o "Operation not permitted"; : >/dev/null && echo null-opened';
    const denied = shell(script);
    const deniedCgroup = cgroupFor(denied.child.pid as number, { devices: [{ allow: false, access: 'rwm' }] });
    const allowed = shell(script);
    const allowedCgroup = cgroupFor(allowed.child.pid as number, { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 11, access: 'r' }] });
    const devices = cgroupLayout().v1.find((h) => h.controllers.includes('devices'))?.name ?? '';
    expect(read(deniedCgroup.placement.dirs[devices], 'devices.list')).not.toContain('c 1:11');
    expect(read(allowedCgroup.placement.dirs[devices], 'devices.list')).toContain('c 1:11 r');
    denied.go();
    allowed.go();
    await Promise.all([denied.exited, allowed.exited]);
    expect(denied.output().stdout).toBe('Operation not permitted\nnull-opened\n');
    expect(allowed.output().stdout).toBe('kmsg-opened\nnull-opened\n');
    await destroyed(deniedCgroup);
    await destroyed(allowedCgroup);
  });
});
