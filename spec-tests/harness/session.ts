import { runProgram, type ProgramRun } from './run.js';
import type { Runtime } from './runtimes.js';
import type { SuiteBuild, SuiteProgram } from './suite.js';
import { summarize } from './summary.js';

/** Per-program timeout: the slowest programs take well under a minute with runc. */
export const DEFAULT_TIMEOUT_MS = 300_000;

/** The programs named by --only (all when undefined); unknown names are an error, not a no-op. */
export function selectPrograms(suite: SuiteBuild, only: ReadonlySet<string> | undefined): SuiteProgram[] {
  if (only === undefined) return [...suite.programs];
  const known = new Set(suite.programs.map((program) => program.name));
  const unknown = [...only].filter((name) => !known.has(name));
  if (unknown.length > 0) throw new Error(`not programs of the suite: ${unknown.join(', ')}`);
  return suite.programs.filter((program) => only.has(program.name));
}

export interface RuntimeRuns {
  readonly runtime: Runtime;
  readonly runs: Map<string, ProgramRun>;
  /** Wall time spent on this runtime's programs, cleanup included. */
  durationMs: number;
}

/**
 * Runs every program against each runtime, one program at a time: they create containers as root,
 * share the suite's fixed cgroup paths, and the cleanup after each program (containers, mounts,
 * cgroups) must be able to tell what that program left.
 */
export async function runPrograms(
  suite: SuiteBuild,
  programs: readonly SuiteProgram[],
  runtimes: readonly Runtime[],
  options: { readonly timeoutMs: number; readonly log: (line: string) => void },
): Promise<RuntimeRuns[]> {
  const results: RuntimeRuns[] = runtimes.map((runtime) => ({ runtime, runs: new Map(), durationMs: 0 }));
  for (const [index, program] of programs.entries()) {
    const parts: string[] = [];
    for (const result of results) {
      const started = Date.now();
      const run = await runProgram(suite, program, result.runtime, options);
      result.runs.set(program.name, run);
      result.durationMs += Date.now() - started;
      parts.push(`${result.runtime.name}: ${describe(run)}`);
    }
    options.log(`[${index + 1}/${programs.length}] ${program.name}  ${parts.join('  |  ')}`);
  }
  return results;
}

function describe(run: ProgramRun): string {
  const summary = summarize(run);
  const counts = `${summary.ok} ok, ${summary.notOk} not ok, ${summary.skipped} skip (${(run.durationMs / 1000).toFixed(1)} s)`;
  const cleanup = run.cleanup.length > 0 ? ` [${run.cleanup.join('; ')}]` : '';
  return (summary.clean ? counts : `${counts} FAIL ${summary.firstFailure ?? ''}`) + cleanup;
}
