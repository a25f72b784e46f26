import type { ProgramRun } from './run.js';
import type { TapTest } from './tap.js';

export interface RunSummary {
  readonly ok: number;
  /** `not ok` lines, the excused ones not counted. */
  readonly notOk: number;
  /** `not ok` lines of assertions excused as suite defects. */
  readonly excused: number;
  readonly skipped: number;
  /** Ran to its end, exit 0, well-formed plans, no `not ok`, no error diagnostic. */
  readonly clean: boolean;
  /** One line saying what went wrong first, or null when clean. */
  readonly firstFailure: string | null;
}

/**
 * `excused`: numbers of assertions that are suite defects (expectations.json): their `not ok`
 * neither counts nor makes the run unclean.
 */
export function summarize(run: ProgramRun, excused: readonly number[] = []): RunSummary {
  const { ok, skipped } = run.tap.counts;
  const excusedCount = run.tap.tests.filter((test) => isExcused(test, excused)).length;
  const notOk = run.tap.counts.notOk - excusedCount;
  const clean =
    run.outcome === 'completed' &&
    notOk === 0 &&
    run.tap.problems.length === 0 &&
    run.tap.bailOut === null &&
    diagnosticErrors(run).length === 0;
  return { ok, notOk, excused: excusedCount, skipped, clean, firstFailure: clean ? null : firstFailure(run, excused) };
}

function isFailure(test: TapTest): boolean {
  return !test.ok && test.directive?.kind !== 'todo' && test.directive?.kind !== 'skip';
}

function isExcused(test: TapTest, excused: readonly number[]): boolean {
  return isFailure(test) && test.number !== null && excused.includes(test.number);
}

function firstFailure(run: ProgramRun, excused: readonly number[]): string {
  if (run.outcome === 'not-run') return oneLine(`not run: ${run.error ?? ''}`);
  const failed = run.tap.tests.find((test) => isFailure(test) && !isExcused(test, excused));
  if (failed !== undefined) {
    const detail = failed.diagnostics['error'] || failed.diagnostics['message'] || failed.comments.join(' ');
    return oneLine(`not ok ${failed.number ?? ''} ${failed.description}${detail === '' ? '' : `: ${detail}`}`);
  }
  const [diagnostic] = diagnosticErrors(run);
  if (diagnostic !== undefined) return oneLine(`error diagnostic: ${diagnostic}`);
  if (run.tap.bailOut !== null) return `bail out: ${run.tap.bailOut}`;
  if (run.outcome === 'timeout') return `timed out after ${Math.round(run.durationMs / 1000)} s`;
  // util.Fatal prints the error, then the runtime's stderr, then "exit status N": the start says
  // most. Log timestamps only make the table differ from run to run.
  if (run.outcome === 'crashed') {
    const stderr = run.stderr.slice(0, 500).replace(/time="[^"]*"\s*/g, '');
    return oneLine(`exit ${run.exit ?? '?'}: ${stderr || 'no stderr'}`);
  }
  return run.tap.problems[0] ?? 'failed';
}

/** The suite reports lifecycle failures as an `error` block outside any test. */
function diagnosticErrors(run: ProgramRun): string[] {
  return run.tap.orphanDiagnostics.map((diagnostic) => diagnostic['error'] ?? '').filter((error) => error.trim() !== '');
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
