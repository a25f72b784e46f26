import { existsSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { skipReason } from '../integration/support/harness.js';
import { recordCounts } from './support/counts.js';
import { listProblem } from './support/list-truth.js';
import { caseStream, FIXED_SEED, hex, randomSeed } from './support/prng.js';
import { scratchParent, sleepingBundle, workspace, type Workspace } from './support/sandbox.js';
import { cgroupDirs, hasStackTrace, leftovers, tsrun } from './support/tsrun.js';

// SIGKILL of tsrun at a delay drawn from a seeded sweep over how long the
// command takes (create about 150-300 ms here, delete about 150 ms): each
// delay lands somewhere, named phase or not. crash-points.test.ts hits the
// named phases one by one; this finds what lies between them.
const ROUNDS = Number(process.env.TSRUN_CRASH_ROUNDS ?? 40);
const MAX_DELAY_MS = 400;
const seed = process.env.TSRUN_FUZZ_SEED === undefined ? FIXED_SEED : randomSeed();

const parent = scratchParent('tsrun-crash-');

const skip = skipReason();
if (skip !== undefined) console.warn(`skipping the crash consistency tests: ${skip}`);

describe.skipIf(skip !== undefined)('crash consistency', () => {
  const w: Workspace = workspace(parent, 'w');
  afterAll(() => {
    w.cleanup();
    rmSync(parent, { recursive: true, force: true });
  });
  const bundle = sleepingBundle(w);

  it(`SIGKILL of create and of delete at ${ROUNDS} seeded delays each: list is truthful, delete --force removes everything`, async () => {
    const started = Date.now();
    const failures: string[] = [];
    let leftoverCount = 0;
    let cases = 0;
    for (const command of ['create', 'delete'] as const) {
      for (let round = 0; round < ROUNDS; round++) {
        cases++;
        const id = `crash-${command}-${round}`;
        const delay = caseStream(seed, round + (command === 'delete' ? ROUNDS : 0)).below(MAX_DELAY_MS);
        const what = `${command} killed after ${delay} ms`;
        const cgroups = new Map(cgroupDirs(id, undefined).map((d) => [d, existsSync(d)]));
        if (command === 'delete') {
          const c = await tsrun(w.root, w.scratch, ['run', '-d', '--bundle', bundle, id]);
          if (c.status !== 0) failures.push(`${what}: setup run -d failed: ${c.stderr}`);
        }
        let timer: NodeJS.Timeout | undefined;
        const args = command === 'create' ? ['create', '--bundle', bundle, id] : ['delete', '--force', id];
        const killed = await tsrun(w.root, w.scratch, args, { onSpawn: (pid) => (timer = setTimeout(() => process.kill(pid, 'SIGKILL'), delay)) });
        clearTimeout(timer);
        if (hasStackTrace(killed.stderr)) failures.push(`${what}: stack trace: ${killed.stderr.slice(0, 300)}`);
        const listed = await listProblem(w.root, w.scratch, id);
        if (listed !== undefined) failures.push(`${what}: ${listed}`);
        const d = await tsrun(w.root, w.scratch, ['delete', '--force', id]);
        if (d.status !== 0) failures.push(`${what}: delete --force afterwards failed: ${d.stderr.trim()}`);
        const left = leftovers({ root: w.root, sandbox: w.dir, cgroups });
        if (left.length > 0) {
          leftoverCount += left.length;
          failures.push(`${what} (${killed.signal ?? `exit ${killed.status}`}): delete --force left ${left.join(', ')}`);
        }
      }
    }
    recordCounts({ test: 'crash consistency (SIGKILL sweep)', cases, failures: failures.length, leftovers: leftoverCount, note: `create and delete --force killed at delays 0-${MAX_DELAY_MS} ms from seed ${hex(seed)}, through bin/tsrun; ${((Date.now() - started) / 1000).toFixed(1)} s` });
    expect(failures.slice(0, 20)).toEqual([]);
    expect(leftoverCount).toBe(0);
  }, 600_000);
});
