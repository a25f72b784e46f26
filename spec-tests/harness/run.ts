import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listContainers, removeLeftovers, removeSuiteCgroups, unmountUnder } from './leftovers.js';
import { runCommand } from './exec.js';
import type { Runtime } from './runtimes.js';
import type { SuiteBuild, SuiteProgram } from './suite.js';
import { parseTap, type TapResult } from './tap.js';

/**
 * completed: exited 0. crashed: exited non-zero or by a signal (the suite's util.Fatal exits 1,
 * usually before the plan). timeout: killed by the harness. not-run: could not be started.
 */
export type Outcome = 'completed' | 'crashed' | 'timeout' | 'not-run';

export interface ProgramRun {
  readonly program: string;
  readonly runtime: string;
  readonly outcome: Outcome;
  /** Exit code, or the signal's name. */
  readonly exit: string | null;
  readonly durationMs: number;
  readonly tap: TapResult;
  readonly stderr: string;
  /** Why the program was not run. */
  readonly error: string | null;
  /** What the program left behind and the harness had to clean up (or could not). */
  readonly cleanup: readonly string[];
}

export interface RunOptions {
  readonly timeoutMs: number;
}

/** Runs one validation program against one runtime; never rejects. Not safe to call concurrently. */
export async function runProgram(suite: SuiteBuild, program: SuiteProgram, runtime: Runtime, options: RunOptions): Promise<ProgramRun> {
  if (program.binary === null) {
    return notRun(program.name, runtime.name, program.buildError ?? 'not built');
  }
  // Bundles are made with os.MkdirTemp("", ...): a private TMPDIR lets the harness remove what a
  // crashed program did not.
  const tmp = join(suite.scratchDir, 'tmp', `${runtime.name}-${program.name}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });

  const before = await listContainers(runtime);
  const result = await runCommand(program.binary, [], {
    cwd: suite.workDir,
    env: { ...process.env, RUNTIME: runtime.path, TMPDIR: tmp },
    timeoutMs: options.timeoutMs,
  });
  const cleanup = (await removeLeftovers(runtime, before)).map((leftover) =>
    leftover.error === null ? `container ${leftover.id} left behind (deleted)` : `container ${leftover.id} left behind, delete failed: ${leftover.error}`,
  );
  cleanup.push(...(await unmountUnder(tmp)), ...(await removeSuiteCgroups()));
  try {
    await rm(tmp, { recursive: true, force: true });
  } catch (error) {
    cleanup.push(`could not remove ${tmp}: ${(error as Error).message}`);
  }

  // Kept for whoever has to read a failure in full; the table only shows its first line.
  const logDir = join(suite.scratchDir, 'runs', runtime.name);
  await mkdir(logDir, { recursive: true });
  await writeFile(join(logDir, `${program.name}.tap`), result.stdout);
  await writeFile(join(logDir, `${program.name}.stderr`), result.stderr);

  if (result.spawnError !== null) return notRun(program.name, runtime.name, result.spawnError);
  const outcome: Outcome = result.timedOut ? 'timeout' : result.code === 0 ? 'completed' : 'crashed';
  return {
    program: program.name,
    runtime: runtime.name,
    outcome,
    exit: result.code !== null ? String(result.code) : result.signal,
    durationMs: result.durationMs,
    tap: parseTap(result.stdout),
    stderr: result.stderr,
    error: null,
    cleanup,
  };
}

function notRun(program: string, runtime: string, error: string): ProgramRun {
  return { program, runtime, outcome: 'not-run', exit: null, durationMs: 0, tap: parseTap(''), stderr: '', error, cleanup: [] };
}
