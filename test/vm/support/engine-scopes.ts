import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';

// What the engine tests of the systemd boot share: podman and docker take the
// same flags for what they check here.

/** The output of an engine command that must succeed, with no error in what it printed. */
export function succeeded(r: SpawnSyncReturns<string>, what: string): string {
  expect(r.status, `${what}: ${r.stderr}`).toBe(0);
  expect(r.stderr, what).not.toMatch(/level=error/);
  return r.stdout;
}

/** One property of a unit, as systemctl show gives it. */
export function unitProperty(unit: string, property: string): string {
  return spawnSync('systemctl', ['show', unit, `--property=${property}`, '--value'], { encoding: 'utf8' }).stdout.trim();
}

/**
 * `run -d` (64 MiB), exec, pause, unpause, stop, rm through `engine`, with
 * the container's cgroup checked at each step: a `<prefix>-<id>.scope` of
 * `slice`, delegated, with the memory limit, holding the process, frozen
 * while paused; unit and cgroup gone after rm.
 */
export function scopeLifecycle(engine: (args: readonly string[]) => SpawnSyncReturns<string>, options: { runtime: string; image: string; name: string; prefix: string; slice: string }): void {
  const { runtime, name, slice } = options;
  const id = succeeded(engine(['run', '-d', '--name', name, '--network', 'none', '--runtime', runtime, '--memory', '64m', options.image, 'sleep', '1000']), `${name}: run -d`).trim();
  const unit = `${options.prefix}-${id}.scope`;
  const dir = `/sys/fs/cgroup/${slice}/${unit}`;
  expect(unitProperty(unit, 'ActiveState'), name).toBe('active');
  expect(unitProperty(unit, 'Slice'), name).toBe(slice);
  expect(unitProperty(unit, 'Delegate'), name).toBe('yes');
  expect(unitProperty(unit, 'MemoryMax'), name).toBe(String(64 * 2 ** 20));
  const pid = Number(succeeded(engine(['inspect', '--format', '{{.State.Pid}}', name]), `${name}: inspect`).trim());
  expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), name).toBe(`0::/${slice}/${unit}\n`);
  expect(succeeded(engine(['exec', name, 'echo', 'in']), `${name}: exec`)).toBe('in\n');
  succeeded(engine(['pause', name]), `${name}: pause`);
  expect(readFileSync(`${dir}/cgroup.freeze`, 'utf8'), name).toBe('1\n');
  succeeded(engine(['unpause', name]), `${name}: unpause`);
  expect(succeeded(engine(['inspect', '--format', '{{.State.Status}}', name]), name)).toBe('running\n');
  succeeded(engine(['stop', '--time', '1', name]), `${name}: stop`);
  succeeded(engine(['rm', name]), `${name}: rm`);
  expect(unitProperty(unit, 'ActiveState'), `${name}: the unit is gone`).toBe('inactive');
  expect(existsSync(dir), `${name}: the cgroup is gone`).toBe(false);
}
