/**
 * Named points in the commands where test/reliability/crash.test.ts has
 * tsrun SIGKILL itself (TSRUN_CRASH_AT=<point>), so that each phase is hit
 * on purpose rather than by a lucky delay: the test then requires `list`
 * to tell the truth and `delete --force` to remove everything. A failpoint,
 * as etcd's gofail has them; the variable is read at each point, which is
 * a lookup in process.env and nothing when it is unset.
 *
 * The checkpoints of the call chain are points too ("checkpoint:<name>",
 * before tsrun does its part there), in create and in exec alike.
 */
export const CRASH_POINTS = [
  'create:reserved',
  'create:before-clone',
  'create:before-state-write',
  'create:after-state-write',
  'start:before-release',
  'start:fifo-opened',
  'start:fifo-written',
  'start:after-release',
  'start:after-state-write',
  'exec:before-clone',
  'exec:released',
  'delete:after-kill',
  'delete:after-cgroup-destroy',
  'delete:before-state-remove',
] as const;

export type CrashPoint = (typeof CRASH_POINTS)[number] | `checkpoint:${string}`;

export function crashPoint(point: CrashPoint): void {
  if (process.env['TSRUN_CRASH_AT'] === point) process.kill(process.pid, 'SIGKILL');
}
