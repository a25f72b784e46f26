/**
 * Runs the OCI runtime-tools validation suite against tsrun and a reference runtime, prints the
 * side-by-side table, writes spec-tests/RESULTS.md, and exits 1 when tsrun regresses against
 * spec-tests/expectations.json (2 when the harness itself cannot do its job).
 *
 *   node dist/spec-tests/run-suite.js [--runtime tsrun=/path|none] [--reference runc=/usr/sbin/runc|none]
 *     [--only name,name] [--guest] [--results spec-tests/RESULTS.md] [--expectations path] [--timeout seconds] [--jobs n]
 *
 * --runtime none runs the reference alone (no expectations checked); with --only, RESULTS.md is
 * written only when --results names it.
 *
 * --guest says the run is inside .ci/cgroup2-vm (spec-tests/guest/run.sh): the programs marked
 * "guest" for the boot it finds (pure cgroup v2; v1 hierarchies with TSRUN_VM_CGROUP=v1; those
 * on Ubuntu's 5.15 with TSRUN_VM_KERNEL=ubuntu-5.15 too), which cannot pass on this machine kind,
 * are then judged like "pass"; elsewhere they run for information only. Without --only it selects
 * just those programs and writes spec-tests/RESULTS-guest.md (RESULTS-guest-<boot>.md in a v1
 * boot) instead.
 */
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkExpectations, defectsOf, ExpectationsError, loadExpectations } from './harness/expectations.js';
import { checkDefectQuotes } from './harness/suite-defect.js';
import { gitCommit, guestBoot, hostFacts } from './harness/host.js';
import { formatDuration, renderReport, resultsFile, type ReportColumn } from './harness/report.js';
import { repoRoot } from './harness/repo.js';
import { parseRuntime, runtimeVersion, type Runtime } from './harness/runtimes.js';
import { DEFAULT_TIMEOUT_MS, runPrograms, selectPrograms } from './harness/session.js';
import { findGo, prepareSuite, SuiteUnavailableError } from './harness/suite.js';
import { resultTable } from './harness/table.js';

const log = (line: string): void => void process.stderr.write(`[spec-tests] ${line}\n`);

async function main(): Promise<number> {
  const root = repoRoot();
  const { values } = usage(() =>
    parseArgs({
      options: {
        runtime: { type: 'string', default: `tsrun=${join(root, 'bin', 'tsrun')}` },
        reference: { type: 'string' },
        only: { type: 'string' },
        guest: { type: 'boolean', default: false },
        results: { type: 'string' },
        expectations: { type: 'string', default: join(root, 'spec-tests', 'expectations.json') },
        timeout: { type: 'string', default: String(DEFAULT_TIMEOUT_MS / 1000) },
        jobs: { type: 'string', default: '2' },
      },
      strict: true,
    }),
  );
  const guest = values.guest ? await guestBoot() : null;
  const timeoutMs = Number(values.timeout) * 1000;
  const jobs = Number(values.jobs);
  if (!(timeoutMs > 0) || !Number.isInteger(jobs) || jobs < 1) throw new UsageError('--timeout and --jobs must be positive numbers');
  const runtime = values.runtime === 'none' ? null : runtimeOption(values.runtime);
  const chosen = defaultReference(values.reference);
  // Columns, logs and temporary directories are named after the runtime: keep the names apart.
  const reference = chosen !== null && chosen.name === runtime?.name ? { ...chosen, name: `${chosen.name}-reference` } : chosen;
  // A partial run must not overwrite the full committed results unless asked to.
  const resultsPath = values.results ?? (values.only === undefined ? join(root, 'spec-tests', resultsFile(guest)) : null);

  if (process.getuid?.() !== 0) throw new UsageError('the validation programs create containers: run as root');
  const go = findGo();
  if (go === null) throw new UsageError('Go is not installed (looked on PATH and in /usr/local/go/bin): run .ci/install-spec-deps.sh');
  const expectations = await loadExpectations(values.expectations);
  const only =
    values.only !== undefined
      ? new Set(values.only.split(',').map((name) => name.trim()).filter((name) => name !== ''))
      : guest !== null
        ? new Set(Object.entries(expectations.programs).flatMap(([name, entry]) => (entry.status === 'guest' && entry.boot === guest ? [name] : [])))
        : undefined;

  const suite = await prepareSuite({ go, log, jobs });
  log(`suite ready in ${formatDuration(suite.durationMs)} (${suite.builtCount} built, ${suite.cachedCount} cached, ${suite.failedCount} failed) in ${suite.scratchDir}`);
  const programs = usage(() => selectPrograms(suite, only));
  const runtimes = [runtime, reference].filter((entry): entry is Runtime => entry !== null);
  const results = await runPrograms(suite, programs, runtimes, { timeoutMs, log });
  const underTest = runtime === null ? undefined : results[0];
  const referenceRuns = reference === null ? undefined : results[results.length - 1];

  const names = programs.map((program) => program.name);
  // A suite-defect entry quotes the suite's wrong line: the pinned source must still read so.
  const quotes = await checkDefectQuotes(defectsOf(expectations), suite.sourceDir);
  const checked =
    underTest === undefined ? null : checkExpectations(expectations, suite.version, suite.programs, underTest.runs, { only, guest });
  const check = checked === null ? null : { ...checked, regressions: [...quotes, ...checked.regressions] };
  if (check === null) for (const problem of quotes) log(`suite-defect entry: ${problem}`);
  const columns: ReportColumn[] = [
    {
      column: { name: runtime?.name ?? 'tsrun', runs: underTest?.runs ?? null },
      role: 'under test',
      description: runtime === null ? 'not run (`--runtime none`)' : `\`${runtime.path}\`: ${await runtimeVersion(runtime)}`,
      durationMs: underTest?.durationMs ?? null,
    },
  ];
  if (reference !== null && referenceRuns !== undefined) {
    columns.push({
      column: { name: reference.name, runs: referenceRuns.runs },
      role: 'reference',
      description: `\`${reference.path}\`: ${await runtimeVersion(reference)}`,
      durationMs: referenceRuns.durationMs,
    });
  }

  process.stdout.write(resultTable(names, expectations.programs, columns.map((entry) => entry.column)) + '\n');
  if (resultsPath !== null) {
    const report = renderReport({
      date: new Date(),
      command: ['node dist/spec-tests/run-suite.js', ...process.argv.slice(2)].join(' '),
      suite,
      host: await hostFacts(),
      tsrunCommit: await gitCommit(root),
      columns,
      programs: names,
      expectations,
      guest,
      check,
    });
    await writeFile(resolve(resultsPath), report);
    log(`wrote ${resolve(resultsPath)}`);
  }

  for (const notice of check?.notices ?? []) log(`notice: ${notice}`);
  if (check === null) {
    log('the runtime under test was not run: expectations not checked');
    return 0;
  }
  for (const regression of check.regressions) log(`REGRESSION: ${regression}`);
  log(check.regressions.length === 0 ? 'no regressions' : `${check.regressions.length} regression(s)`);
  return check.regressions.length === 0 ? 0 : 1;
}

class UsageError extends Error {}

const USAGE =
  'usage: node dist/spec-tests/run-suite.js [--runtime name=path|none] [--reference name=path|none] ' +
  '[--only name,name] [--guest] [--results path] [--expectations path] [--timeout seconds] [--jobs n]';

/** Runs `parse`, turning what it throws into a usage error. */
function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
}

function runtimeOption(spec: string): Runtime {
  return usage(() => parseRuntime(spec));
}

/** runc from PATH unless told otherwise; its absence only costs the reference column. */
function defaultReference(option: string | undefined): Runtime | null {
  if (option === 'none') return null;
  if (option !== undefined) return runtimeOption(option);
  try {
    return parseRuntime('runc=runc');
  } catch {
    log('runc is not on PATH: no reference column (.ci/install-spec-deps.sh installs it)');
    return null;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Expected failures get their message; anything else is a harness bug and gets its stack.
    const expected = error instanceof UsageError || error instanceof SuiteUnavailableError || error instanceof ExpectationsError;
    log(expected ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 2;
  },
);
