import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NOBODY, skipReason } from '../integration/support/harness.js';
import { recordCounts } from './support/counts.js';
import { scratchParent, sleepingBundle, workspace, type Workspace } from './support/sandbox.js';
import { cgroupDirs, hasStackTrace, leftovers, tsrun, type Outcome } from './support/tsrun.js';

const REPEAT = Number(process.env.TSRUN_RACE_REPEAT ?? 20);
const PARALLEL = 50;

const parent = scratchParent('tsrun-races-');

const skip = skipReason();
if (skip !== undefined) console.warn(`skipping the races tests: ${skip}`);

afterAll(() => rmSync(parent, { recursive: true, force: true }));

// As root, and as an unprivileged caller (nobody) with rootless containers.
const CALLERS: ReadonlyArray<{ name: string; uid?: number }> = [{ name: 'root' }, { name: 'rootless', uid: NOBODY }];

describe.skipIf(skip !== undefined).each(CALLERS)('races, $name', ({ name, uid }) => {
  const w: Workspace = workspace(parent, name, uid);
  afterAll(() => w.cleanup());
  const bundle = sleepingBundle(w);
  const as = uid === undefined ? {} : { uid };
  const run = (args: readonly string[]) => tsrun(w.root, w.scratch, args, as);
  const counted = (test: string) => (uid === undefined ? test : `${test}, rootless`);
  const failures: string[] = [];
  let cases = 0;
  let leftoverCount = 0;

  /** What `list` says of `id`, checked against the kernel: a listed container's init is alive unless stopped. */
  async function listed(id: string): Promise<string | undefined> {
    const r = await run(['list', '--format', 'json']);
    if (r.status !== 0) throw new Error(`list failed: ${r.stderr}`);
    const all = JSON.parse(r.stdout === '' ? '[]' : r.stdout) as Array<{ id: string; status: string; pid: number }>;
    const entry = all.find((c) => c.id === id);
    if (entry === undefined) {
      if (existsSync(join(w.root, id, 'state.json'))) throw new Error(`list omits ${id}, whose state.json exists`);
      return undefined;
    }
    const alive = entry.pid > 0 && existsSync(`/proc/${entry.pid}`) && !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${entry.pid}/stat`, 'utf8'));
    if ((entry.status === 'stopped') === alive) throw new Error(`list says ${id} is ${entry.status}, but its init ${entry.pid} is ${alive ? 'alive' : 'gone'}`);
    return entry.status;
  }

  /** One round: `setup`, then the racers at once; `judge` says what is wrong with the outcomes; then cleanup must leave nothing. */
  async function race(name: string, round: number, setup: (id: string) => Promise<void>, racers: (id: string) => string[][], judge: (results: Outcome[], status: string | undefined) => string | undefined) {
    const id = `race-${name.replaceAll(' ', '-')}-${round}`;
    const cgroups = new Map(cgroupDirs(id, undefined).map((d) => [d, existsSync(d)]));
    cases++;
    try {
      await setup(id);
      const results = await Promise.all(racers(id).map((args) => run(args)));
      for (const r of results) {
        if (r.hung) failures.push(`${name} #${round}: a command hung`);
        if (hasStackTrace(r.stderr)) failures.push(`${name} #${round}: stack trace: ${r.stderr.slice(0, 300)}`);
      }
      const problem = judge(results, await listed(id));
      if (problem !== undefined) failures.push(`${name} #${round}: ${problem}; ${results.map((r) => `exit ${r.status}: ${r.stderr.trim().slice(0, 200)}`).join(' | ')}`);
    } catch (error) {
      failures.push(`${name} #${round}: ${(error as Error).message}`);
    }
    const cleanup = await run(['delete', '--force', id]);
    if (cleanup.status !== 0) failures.push(`${name} #${round}: cleanup delete --force failed: ${cleanup.stderr}`);
    const left = leftovers({ root: w.root, sandbox: w.dir, cgroups });
    leftoverCount += left.length;
    if (left.length > 0) failures.push(`${name} #${round}: left ${left.join(', ')}`);
  }

  const created = async (id: string) => {
    const r = await run(['create', '--bundle', bundle, id]);
    if (r.status !== 0) throw new Error(`setup create: ${r.stderr}`);
  };
  const running = async (id: string) => {
    await created(id);
    const r = await run(['start', id]);
    if (r.status !== 0) throw new Error(`setup start: ${r.stderr}`);
  };
  const ok = (r: Outcome) => r.status === 0;
  const says = (r: Outcome, pattern: RegExp) => r.status !== 0 && pattern.test(r.stderr);

  it(`each race on one id, ${REPEAT} times: one winner, clear errors, a truthful list, nothing left`, async () => {
    const started = Date.now();
    for (let round = 0; round < REPEAT; round++) {
      await race('two creates', round, async () => {}, (id) => [['create', '--bundle', bundle, id], ['create', '--bundle', bundle, id]], ([a, b], status) => {
        if (a === undefined || b === undefined) return 'missing results';
        if (ok(a) === ok(b)) return `expected exactly one create to win, ${ok(a) ? 'both' : 'neither'} did`;
        if (!says(ok(a) ? b : a, /already exists/)) return 'the loser does not say the container already exists';
        return status === 'created' ? undefined : `list says ${status ?? 'nothing'}, not created`;
      });
      await race('create vs delete', round, async () => {}, (id) => [['create', '--bundle', bundle, id], ['delete', '--force', id]], ([c, d], status) => {
        if (c === undefined || d === undefined) return 'missing results';
        if (!ok(d)) return 'delete --force failed';
        // Either order is a win for one of them: delete first (nothing to delete) leaves a created container; create first, none.
        if (ok(c)) return status === 'created' || status === undefined ? undefined : `list says ${status}`;
        return /removed by a delete of the same id/.test(c.stderr) && status === undefined ? undefined : `create failed unclearly (list: ${status ?? 'nothing'})`;
      });
      await race('two deletes', round, async (id) => {
        await created(id);
        const k = await run(['kill', id, 'KILL']);
        if (k.status !== 0) throw new Error(`setup kill: ${k.stderr}`);
        for (let i = 0; i < 200 && (await listed(id)) !== 'stopped'; i++) await new Promise((r) => setTimeout(r, 10));
      }, (id) => [['delete', id], ['delete', id]], ([a, b], status) => {
        if (a === undefined || b === undefined) return 'missing results';
        if (ok(a) === ok(b)) return `expected exactly one delete to win, ${ok(a) ? 'both' : 'neither'} did`;
        if (!says(ok(a) ? b : a, /does not exist/)) return 'the loser does not say the container does not exist';
        return status === undefined ? undefined : `list still shows it ${status}`;
      });
      await race('kill vs delete', round, running, (id) => [['kill', id, 'KILL'], ['delete', '--force', id]], ([k, d], status) => {
        if (k === undefined || d === undefined) return 'missing results';
        if (!ok(d)) return 'delete --force failed';
        if (!ok(k) && !/does not exist|not running/.test(k.stderr)) return 'kill failed unclearly';
        return status === undefined ? undefined : `list still shows it ${status}`;
      });
      await race('start vs delete', round, created, (id) => [['start', id], ['delete', '--force', id]], ([s, d], status) => {
        if (s === undefined || d === undefined) return 'missing results';
        if (!ok(d)) return 'delete --force failed';
        if (!ok(s) && !/does not exist|cannot start|stopped/.test(s.stderr)) return 'start failed unclearly';
        return status === undefined ? undefined : `list still shows it ${status}`;
      });
    }
    recordCounts({ test: counted('races on one id'), cases, failures: failures.length, leftovers: leftoverCount, note: `two creates, create vs delete, two deletes, kill vs delete, start vs delete, ${REPEAT} rounds each, through bin/tsrun; ${((Date.now() - started) / 1000).toFixed(1)} s` });
    expect(failures.slice(0, 20)).toEqual([]);
    expect(leftoverCount).toBe(0);
  }, 600_000);

  it(`${PARALLEL} lifecycles at once on distinct ids: create, start, state, kill, delete, 0 failures`, async () => {
    const started = Date.now();
    const ids = Array.from({ length: PARALLEL }, (_, i) => `parallel-${i}`);
    const cgroups = new Map(ids.flatMap((id) => cgroupDirs(id, undefined)).map((d) => [d, existsSync(d)]));
    const problems = (
      await Promise.all(
        ids.map(async (id) => {
          const steps: Array<[string[], (r: Outcome) => boolean]> = [
            [['create', '--bundle', bundle, id], ok],
            [['start', id], ok],
            [['state', id], (r) => ok(r) && (JSON.parse(r.stdout) as { status: string }).status === 'running'],
            [['kill', id, 'KILL'], ok],
            [['delete', '--force', id], ok],
          ];
          for (const [args, good] of steps) {
            const r = await tsrun(w.root, w.scratch, args, { timeoutMs: 60_000, ...as });
            if (!good(r) || hasStackTrace(r.stderr)) return [`${id}: ${args[0]}: exit ${r.status}${r.hung ? ' (hung)' : ''}: ${r.stderr.trim().slice(0, 200)} ${r.stdout.slice(0, 100)}`];
          }
          return [];
        }),
      )
    ).flat();
    const left = leftovers({ root: w.root, sandbox: w.dir, cgroups });
    recordCounts({ test: counted('parallel lifecycles'), cases: PARALLEL, failures: problems.length, leftovers: left.length, note: `${PARALLEL} at once, distinct ids, through bin/tsrun; ${((Date.now() - started) / 1000).toFixed(1)} s` });
    expect(problems).toEqual([]);
    expect(left).toEqual([]);
  }, 300_000);

  it("holding one container's lock blocks commands on it, not a create of another", async () => {
    const held = 'lock-held';
    const other = 'lock-other';
    await created(held);
    // flock(1) takes the same flock(2) on the state directory that tsrun takes
    // (-o: only flock holds it, not sleep); its own process group, to end both.
    const holder = spawn('flock', ['-o', join(w.root, held), 'sleep', '30'], { stdio: 'ignore', detached: true });
    const release = () => {
      try {
        process.kill(-(holder.pid ?? 0), 'SIGKILL');
      } catch {
        // already gone
      }
    };
    try {
      await new Promise((r) => setTimeout(r, 300));
      let deleteDone = false;
      const blockedDelete = run(['delete', '--force', held]).then((r) => {
        deleteDone = true;
        return r;
      });
      const t0 = Date.now();
      const r = await run(['create', '--bundle', bundle, other]);
      const createMs = Date.now() - t0;
      expect(r.status, r.stderr).toBe(0);
      // Well under the 30 s the lock is held: the other id was not waiting for it.
      expect(createMs).toBeLessThan(10_000);
      await new Promise((r) => setTimeout(r, 500));
      expect(deleteDone, 'delete of the locked container finished while its lock was held').toBe(false);
      release();
      const d = await blockedDelete;
      expect(d.status, d.stderr).toBe(0);
      expect(existsSync(join(w.root, held))).toBe(false);
    } finally {
      release();
      await run(['delete', '--force', other]);
    }
    expect(leftovers({ root: w.root, sandbox: w.dir, cgroups: new Map([...cgroupDirs(held, undefined), ...cgroupDirs(other, undefined)].map((d) => [d, false])) })).toEqual([]);
  }, 120_000);
});
