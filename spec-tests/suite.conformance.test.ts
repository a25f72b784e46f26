/**
 * CI entry for the OCI runtime-tools validation suite: `vitest run --project conformance`.
 * One test per program of spec-tests/expectations.json, asserting its expectation for tsrun; the
 * reference runtime (runc) runs alongside for the table printed at the end. spec-tests/RESULTS.md is
 * written by run-suite.js only, so CI leaves the work tree untouched.
 *
 * Environment: TSRUN_SPEC_RUNTIME (name=path, default tsrun=<repo>/bin/tsrun),
 * TSRUN_SPEC_REFERENCE (name=path or none, default runc from PATH), TSRUN_SPEC_ONLY (name,name),
 * TSRUN_SPEC_TIMEOUT (seconds per program), TSRUN_SPEC_SCRATCH (see harness/suite.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { judgeProgram, parseExpectations } from './harness/expectations.js';
import { repoRoot } from './harness/repo.js';
import { runProgram, type ProgramRun } from './harness/run.js';
import { parseRuntime, type Runtime } from './harness/runtimes.js';
import { DEFAULT_TIMEOUT_MS } from './harness/session.js';
import { findGo, prepareSuite, type SuiteBuild } from './harness/suite.js';
import { expectationLabel, resultTable } from './harness/table.js';

const log = (line: string): void => void process.stderr.write(`[spec-tests] ${line}\n`);

const root = repoRoot();
const expectations = parseExpectations(JSON.parse(readFileSync(join(root, 'spec-tests', 'expectations.json'), 'utf8')));
const only = process.env['TSRUN_SPEC_ONLY']?.split(',').map((name) => name.trim()).filter((name) => name !== '');
const names = Object.keys(expectations.programs).filter((name) => only === undefined || only.includes(name));
const timeoutMs = Number(process.env['TSRUN_SPEC_TIMEOUT'] ?? DEFAULT_TIMEOUT_MS / 1000) * 1000;
const go = findGo();
const skipReason =
  process.getuid?.() !== 0
    ? 'not root: the validation programs create containers'
    : go === null
      ? 'Go is not installed (looked on PATH and in /usr/local/go/bin): run .ci/install-spec-deps.sh'
      : null;
if (skipReason !== null) log(`conformance suite skipped: ${skipReason}`);

function referenceRuntime(): Runtime | null {
  const spec = process.env['TSRUN_SPEC_REFERENCE'] ?? 'runc=runc';
  if (spec === 'none') return null;
  try {
    return parseRuntime(spec);
  } catch (error) {
    log(`no reference column: ${(error as Error).message}`);
    return null;
  }
}

(skipReason === null ? describe : describe.skip)('OCI runtime-tools validation suite', () => {
  const runtime = parseRuntime(process.env['TSRUN_SPEC_RUNTIME'] ?? `tsrun=${join(root, 'bin', 'tsrun')}`);
  const chosen = referenceRuntime();
  const reference = chosen !== null && chosen.name === runtime.name ? { ...chosen, name: `${chosen.name}-reference` } : chosen;
  const runs = new Map<string, ProgramRun>();
  const referenceRuns = new Map<string, ProgramRun>();
  let suite: SuiteBuild;

  beforeAll(async () => {
    suite = await prepareSuite({ go: go as string, log });
    log(`suite ready (${suite.builtCount} built, ${suite.cachedCount} cached, ${suite.failedCount} failed) in ${suite.scratchDir}`);
  });

  afterAll(() => {
    const columns = [{ name: runtime.name, runs }];
    if (reference !== null) columns.push({ name: reference.name, runs: referenceRuns });
    log(`results\n${resultTable(names, expectations.programs, columns)}`);
  });

  it('has an expectation for every program of the pinned suite', () => {
    expect(expectations.suite, 'expectations.json was reviewed against another suite version').toBe(suite.version);
    const unlisted = suite.programs.map((program) => program.name).filter((name) => expectations.programs[name] === undefined);
    expect(unlisted, 'programs without an entry in expectations.json').toEqual([]);
  });

  for (const name of names) {
    const expectation = expectations.programs[name];
    it(`${name}: ${expectationLabel(expectation)}`, async () => {
      const program = suite.programs.find((candidate) => candidate.name === name);
      let run: ProgramRun | undefined;
      if (program !== undefined) {
        run = await runProgram(suite, program, runtime, { timeoutMs });
        runs.set(name, run);
        if (reference !== null) referenceRuns.set(name, await runProgram(suite, program, reference, { timeoutMs }));
      }
      const verdict = judgeProgram(name, expectation, program, run);
      if (verdict.notice !== null) log(`notice: ${verdict.notice}`);
      expect(verdict.regression).toBeNull();
    });
  }
});
