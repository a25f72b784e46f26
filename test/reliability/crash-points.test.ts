import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CRASH_POINTS } from '../../src/runtime/crash-point.js';
import { NOBODY, skipReason } from '../integration/support/harness.js';
import { recordCounts } from './support/counts.js';
import { listProblem } from './support/list-truth.js';
import { scratchParent, workspace, type Workspace } from './support/sandbox.js';
import { cgroupDirs, hasStackTrace, leftovers, tsrun } from './support/tsrun.js';

// SIGKILL of tsrun at each named phase of create, start, run, exec and
// delete, one by one: at the points of src/runtime/crash-point.ts
// (TSRUN_CRASH_AT, where tsrun kills itself), at each checkpoint of the call
// chain, and during each hook tsrun runs itself (the test kills tsrun once
// the hook says it runs: a createContainer hook is in the container's pid
// namespace, where it could not name tsrun).
// A case counts only if tsrun died of SIGKILL, so a point that a command no
// longer reaches fails here instead of passing unseen. After each: `list`
// tells the truth about the container and `delete --force` leaves nothing.

const parent = scratchParent('tsrun-crash-points-');
const skip = skipReason();
if (skip !== undefined) console.warn(`skipping the crash-point tests: ${skip}`);

type Setup = 'none' | 'created' | 'running';

interface CrashCase {
  /** What tsrun is killed at, for messages. */
  readonly at: string;
  readonly setup: Setup;
  readonly command: (id: string, bundle: string) => string[];
  /** TSRUN_CRASH_AT for the command under test. */
  readonly point?: string;
  /** The hook (in the bundle's config) during which tsrun is killed instead. */
  readonly hook?: 'createRuntime' | 'createContainer' | 'prestart' | 'poststart' | 'poststop';
  /** A container without a mount namespace: its mounts are made in the host's. */
  readonly hostMounts?: true;
}

const create = (id: string, bundle: string): string[] => ['create', '--bundle', bundle, id];
const runDetached = (id: string, bundle: string): string[] => ['run', '-d', '--bundle', bundle, id];
const start = (id: string): string[] => ['start', id];
const exec = (id: string): string[] => ['exec', id, 'true'];
const deleteForce = (id: string): string[] => ['delete', '--force', id];

const named = (prefix: string): string[] => CRASH_POINTS.filter((p) => p.startsWith(prefix));
// The sleeping bundle below has a tmpcopyup mount, so an init meets every
// checkpoint but the seccomp listener's; an exec by root meets spawned and
// ready (forked is an unprivileged caller's, terminal needs a pty).
const INIT_CHECKPOINTS = ['spawned', 'isolated', 'copy-up', 'mounted', 'ready'].map((c) => `checkpoint:${c}`);
const EXEC_CHECKPOINTS = ['spawned', 'ready'].map((c) => `checkpoint:${c}`);

const CASES: CrashCase[] = [
  ...[...named('create:').slice(0, 2), ...INIT_CHECKPOINTS, ...named('create:').slice(2)].map((point) => ({ at: point, setup: 'none' as const, command: create, point })),
  ...named('start:').map((point) => ({ at: point, setup: 'created' as const, command: start, point })),
  // run is create and start in one process: a point of each.
  ...['checkpoint:mounted', 'start:after-release'].map((point) => ({ at: `run -d, ${point}`, setup: 'none' as const, command: runDetached, point })),
  ...['exec:before-clone', ...EXEC_CHECKPOINTS, 'exec:released'].map((point) => ({ at: point, setup: 'running' as const, command: exec, point })),
  ...named('delete:').map((point) => ({ at: point, setup: 'running' as const, command: deleteForce, point })),
  { at: 'createRuntime hook', setup: 'none', command: create, hook: 'createRuntime' },
  { at: 'createContainer hook', setup: 'none', command: create, hook: 'createContainer' },
  { at: 'prestart hook', setup: 'created', command: start, hook: 'prestart' },
  { at: 'poststart hook', setup: 'created', command: start, hook: 'poststart' },
  { at: 'poststop hook', setup: 'running', command: deleteForce, hook: 'poststop' },
  // Mounts made in the host's namespace outlive the process: before the state write, only
  // what create recorded before clone lets delete --force find them.
  ...['checkpoint:ready', 'create:before-state-write'].map((point) => ({ at: `no mount namespace, ${point}`, setup: 'none' as const, command: create, point, hostMounts: true as const })),
];

// Rootless: the same phases for an unprivileged caller (nobody) and a container in a user
// namespace mapped onto it. Exec's chain forks there (it must enter the pid namespace
// itself), hence its own checkpoint. Left out: a container without a mount namespace,
// which cannot be rootless (mounting needs one owned by the container's user namespace),
// and createContainer hooks, which an unprivileged tsrun refuses (launch in
// init-conductor.ts says why).
const ROOTLESS_LEFT_OUT = (c: CrashCase): boolean => c.hostMounts === true || c.hook === 'createContainer';
const ROOTLESS_CASES: CrashCase[] = CASES.filter((c) => !ROOTLESS_LEFT_OUT(c)).flatMap((c) =>
  c.point === 'checkpoint:spawned' && c.command === exec ? [c, { ...c, at: 'checkpoint:forked', point: 'checkpoint:forked' }] : [c],
);

interface Caller {
  readonly name: string;
  /** Run tsrun as this uid; the workspace is theirs. */
  readonly uid?: number;
  readonly cases: readonly CrashCase[];
}

const CALLERS: readonly Caller[] = [
  { name: 'root', cases: CASES },
  { name: 'an unprivileged caller (rootless)', uid: NOBODY, cases: ROOTLESS_CASES },
];

afterAll(() => rmSync(parent, { recursive: true, force: true }));

describe.skipIf(skip !== undefined).each(CALLERS)('crash points, $name', ({ name, uid, cases }) => {
  const w: Workspace = workspace(parent, uid === undefined ? 'root' : `uid-${uid}`, uid);
  afterAll(() => w.cleanup());
  const as = (args: string[], options: Parameters<typeof tsrun>[3] = {}) => tsrun(w.root, w.scratch, args, { ...options, ...(uid === undefined ? {} : { uid }) });
  // Armed only for the command under test (the setup and the delete --force
  // afterwards run the hook too): it says it runs, then waits to be outlived.
  const armed = join(w.scratch, 'armed');
  const running = join(w.scratch, 'hook-running');
  const hook = { path: '/bin/sh', args: ['sh', '-c', `[ -f ${armed} ] && rm ${armed} && touch ${running} && sleep 2; true`] };

  function bundleFor(c: CrashCase): string {
    const bundle = join(w.dir, `bundle-${c.hook ?? (c.hostMounts ? 'host-mounts' : 'plain')}`);
    if (existsSync(bundle)) return bundle;
    mkdirSync(bundle);
    const config = w.config();
    config.process.args = ['sleep', '1000'];
    config.mounts = [...(config.mounts ?? []), { destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] }];
    if (c.hook !== undefined) config.hooks = { [c.hook]: [hook] };
    if (c.hostMounts) {
      config.linux.namespaces = config.linux.namespaces.filter((n: { type: string }) => n.type !== 'mount');
      // Masking needs a mount namespace of its own (as in runc).
      delete config.linux.maskedPaths;
      delete config.linux.readonlyPaths;
    }
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
    w.own(bundle);
    return bundle;
  }

  it(`SIGKILL at each of ${cases.length} phases of create, start, run, exec and delete: list is truthful, delete --force removes everything`, async () => {
    const started = Date.now();
    const failures: string[] = [];
    let leftoverCount = 0;
    for (const [index, c] of cases.entries()) {
      const id = `crash-point-${index}`;
      const bundle = bundleFor(c);
      const cgroups = new Map(cgroupDirs(id, undefined).map((d) => [d, existsSync(d)]));
      rmSync(running, { force: true });
      if (c.setup !== 'none') {
        const s = await as(c.setup === 'created' ? create(id, bundle) : runDetached(id, bundle));
        if (s.status !== 0) failures.push(`${c.at}: setup ${c.setup} failed: ${s.stderr.trim()}`);
      }
      if (c.hook !== undefined) writeFileSync(armed, '');
      let poll: NodeJS.Timeout | undefined;
      const killed = await as(c.command(id, bundle), {
        ...(c.point === undefined ? {} : { env: { TSRUN_CRASH_AT: c.point } }),
        onSpawn: (pid) => {
          if (c.hook !== undefined) poll = setInterval(() => existsSync(running) && process.kill(pid, 'SIGKILL'), 2);
        },
      });
      clearInterval(poll);
      rmSync(armed, { force: true });
      if (killed.signal !== 'SIGKILL') failures.push(`${c.at}: never reached (${killed.hung ? 'hung' : `exit ${killed.status}`}: ${killed.stderr.trim().slice(0, 200)})`);
      if (hasStackTrace(killed.stderr)) failures.push(`${c.at}: stack trace: ${killed.stderr.slice(0, 300)}`);
      const listed = await listProblem(w.root, w.scratch, id);
      if (listed !== undefined) failures.push(`${c.at}: ${listed}`);
      const d = await as(deleteForce(id));
      if (d.status !== 0) failures.push(`${c.at}: delete --force afterwards failed: ${d.stderr.trim()}`);
      const left = leftovers({ root: w.root, sandbox: w.dir, cgroups });
      if (left.length > 0) {
        leftoverCount += left.length;
        failures.push(`${c.at}: delete --force left ${left.join(', ')}`);
      }
    }
    recordCounts({
      test: uid === undefined ? 'crash consistency (SIGKILL at each phase)' : 'crash consistency (SIGKILL at each phase), rootless',
      cases: cases.length,
      failures: failures.length,
      leftovers: leftoverCount,
      note: `TSRUN_CRASH_AT points, chain checkpoints and hooks, through bin/tsrun as ${name}; ${((Date.now() - started) / 1000).toFixed(1)} s`,
    });
    expect(failures).toEqual([]);
    expect(leftoverCount).toBe(0);
  }, 600_000);
});
