import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { ContainerRecord } from '../../../src/runtime/container/container-record.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { processStartTime, readProcessStat } from '../../../src/runtime/container/status.js';

const cleanups: Array<() => void> = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

export function temporaryDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-unit-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A live process that plays a container's init; killed after the test. */
export function sleeper(): ChildProcess & { pid: number } {
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  if (child.pid === undefined) throw new Error('could not start sleep');
  cleanups.push(() => child.kill('SIGKILL'));
  return child as ChildProcess & { pid: number };
}

/** A pid that is a zombie: its parent (perl, which never waits) outlives it. */
export async function zombie(): Promise<number> {
  const parent = spawn('perl', ['-e', '$| = 1; my $pid = fork(); exit 0 if $pid == 0; print "$pid\\n"; sleep 1000'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  cleanups.push(() => parent.kill('SIGKILL'));
  const pid = await new Promise<number>((resolve) => {
    parent.stdout?.once('data', (data: Buffer) => resolve(Number(String(data).trim())));
  });
  while (readProcessStat(pid)?.state !== 'Z') await sleep(5);
  return pid;
}

/** A pid that certainly belongs to no process right now. */
export function deadPid(): number {
  const result = spawnSync('true');
  if (result.pid === undefined) throw new Error('could not run true');
  return result.pid;
}

export function recordFor(id: string, pid: number, overrides: Partial<ContainerRecord> = {}): ContainerRecord {
  return {
    ociVersion: '1.3.0',
    id,
    pid,
    bundle: `/bundles/${id}`,
    pidStartTime: overrides.pidStartTime ?? (pid > 0 ? processStartTime(pid) : 0),
    created: '2026-01-02T03:04:05.678Z',
    rootfs: `/bundles/${id}/rootfs`,
    owner: 0,
    started: false,
    ...overrides,
  };
}

/** The record fields of a container whose (v2) cgroup is the directory `dir`. */
export function inCgroup(dir: string): Pick<ContainerRecord, 'cgroup'> {
  return { cgroup: { version: 2, dirs: { '': dir }, createdParents: [] } };
}
