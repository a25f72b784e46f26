import { readFile } from 'node:fs/promises';
import type { ProgramRun } from './run.js';
import type { SuiteProgram } from './suite.js';
import { summarize } from './summary.js';
import { DEFECT_KEYS, parseDefect, type AssertionDefect, type SuiteDefect } from './suite-defect.js';

/**
 * What tsrun is expected to do with one validation program (spec-tests/expectations.json):
 * - pass: no `not ok`, a clean run, and at least minOk `ok` (so a program cannot "pass" by
 *   silently running fewer checks; 0 only for the lifecycle programs that report a verdict with
 *   `1..0` and no test lines);
 * - not-applicable: only for programs that read cgroups through the suite's readers, which are
 *   cgroup v1 only and so cannot observe a cgroup v2 runtime;
 * - pending: not expected to pass yet, tracked by an issue;
 * - guest: cannot pass on this machine kind whatever the runtime (`reason` says what the host
 *   lacks), but must pass like `pass` in a guest of .ci/cgroup2-vm (run-suite.js --guest): the
 *   pure cgroup v2 boot, with `"boot": "cgroup-v1"` the boot that mounts every v1 hierarchy, or
 *   with `"boot": "cgroup-v1-kmem"` the same on a kernel that still applies kmem limits (5.15);
 * - suite-defect: the suite is wrong, so no runtime passes the program on any host
 *   (suite-defect.ts says what an entry must prove); it must fail exactly as `failure` says.
 * A pass or guest entry may list `suiteDefects`: numbered assertions that no runtime passes,
 * which must fail (and only they may).
 */
export type Expectation =
  | { readonly status: 'pass'; readonly minOk: number; readonly suiteDefects?: readonly AssertionDefect[] }
  | {
      readonly status: 'guest';
      readonly minOk: number;
      readonly reason: string;
      readonly boot: GuestBoot;
      readonly suiteDefects?: readonly AssertionDefect[];
    }
  | { readonly status: 'not-applicable'; readonly reason: string }
  | { readonly status: 'pending'; readonly issue: number }
  | ({ readonly status: 'suite-defect'; readonly failure: string } & SuiteDefect);

/** The guest boots of .ci/cgroup2-vm (TSRUN_VM_CGROUP=v2 or v1): how its cgroups are mounted. */
export const GUEST_BOOTS = ['cgroup-v2', 'cgroup-v1', 'cgroup-v1-kmem'] as const;
export type GuestBoot = (typeof GUEST_BOOTS)[number];

export interface Expectations {
  /** The suite version the expectations were reviewed against; must equal the pin. */
  readonly suite: string;
  readonly programs: Readonly<Record<string, Expectation>>;
}

export class ExpectationsError extends Error {}

export async function loadExpectations(path: string): Promise<Expectations> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new ExpectationsError(`${path}: ${(error as Error).message}`);
  }
  return parseExpectations(value, path);
}

export function parseExpectations(value: unknown, source = 'expectations'): Expectations {
  const problems: string[] = [];
  if (!isObject(value)) throw new ExpectationsError(`${source}: expected a JSON object`);
  checkKeys(value, ['$comment', 'suite', 'programs'], source, problems);
  const suite = value['suite'];
  if (typeof suite !== 'string' || suite === '') problems.push(`${source}: "suite" must name the suite version`);
  const programs: Record<string, Expectation> = {};
  const entries = value['programs'];
  if (!isObject(entries)) {
    problems.push(`${source}: "programs" must be an object`);
  } else {
    for (const [name, entry] of Object.entries(entries)) {
      const expectation = parseEntry(entry, `${source}: ${name}`, problems);
      if (expectation !== null) programs[name] = expectation;
    }
  }
  if (problems.length > 0) throw new ExpectationsError(problems.join('\n'));
  return { suite: suite as string, programs };
}

function parseEntry(entry: unknown, where: string, problems: string[]): Expectation | null {
  if (!isObject(entry)) {
    problems.push(`${where}: expected an object`);
    return null;
  }
  switch (entry['status']) {
    case 'pass': {
      checkKeys(entry, ['status', 'minOk', 'suiteDefects'], where, problems);
      const minOk = parseMinOk(entry, where, problems);
      const defects = parseAssertionDefects(entry, where, problems);
      if (minOk === null || defects === null) return null;
      return { status: 'pass', minOk, ...(defects.length > 0 ? { suiteDefects: defects } : {}) };
    }
    case 'guest': {
      checkKeys(entry, ['status', 'minOk', 'reason', 'boot', 'suiteDefects'], where, problems);
      const minOk = parseMinOk(entry, where, problems);
      const reason = parseReason(entry, where, problems);
      const boot = entry['boot'] ?? 'cgroup-v2';
      if (!GUEST_BOOTS.includes(boot as GuestBoot)) problems.push(`${where}: "boot" must be ${GUEST_BOOTS.join(' or ')}`);
      const defects = parseAssertionDefects(entry, where, problems);
      if (minOk === null || reason === null || defects === null || !GUEST_BOOTS.includes(boot as GuestBoot)) return null;
      return { status: 'guest', minOk, reason, boot: boot as GuestBoot, ...(defects.length > 0 ? { suiteDefects: defects } : {}) };
    }
    case 'suite-defect': {
      checkKeys(entry, ['status', 'failure', ...DEFECT_KEYS], where, problems);
      const failure = entry['failure'];
      if (typeof failure !== 'string' || failure.trim() === '') problems.push(`${where}: "failure" must say how the program fails`);
      const defect = parseDefect(entry, where, problems);
      return defect === null || typeof failure !== 'string' || failure.trim() === '' ? null : { status: 'suite-defect', failure, ...defect };
    }
    case 'not-applicable': {
      checkKeys(entry, ['status', 'reason'], where, problems);
      const reason = parseReason(entry, where, problems);
      return reason === null ? null : { status: 'not-applicable', reason };
    }
    case 'pending': {
      checkKeys(entry, ['status', 'issue'], where, problems);
      const issue = entry['issue'];
      if (!Number.isInteger(issue) || (issue as number) < 1) {
        problems.push(`${where}: "issue" must be an issue number`);
        return null;
      }
      return { status: 'pending', issue: issue as number };
    }
    default:
      problems.push(`${where}: "status" must be pass, guest, not-applicable, pending or suite-defect`);
      return null;
  }
}

function parseAssertionDefects(entry: Record<string, unknown>, where: string, problems: string[]): AssertionDefect[] | null {
  const list = entry['suiteDefects'];
  if (list === undefined) return [];
  if (!Array.isArray(list) || list.length === 0) {
    problems.push(`${where}: "suiteDefects" must be a non-empty list`);
    return null;
  }
  const before = problems.length;
  const defects: AssertionDefect[] = [];
  list.forEach((item: unknown, index) => {
    const at = `${where}: suiteDefects[${index}]`;
    if (!isObject(item)) {
      problems.push(`${at}: expected an object`);
      return;
    }
    checkKeys(item, ['assertion', 'description', ...DEFECT_KEYS], at, problems);
    const assertion = item['assertion'];
    const description = item['description'];
    if (!Number.isInteger(assertion) || (assertion as number) < 1) problems.push(`${at}: "assertion" must be the assertion's number`);
    if (typeof description !== 'string' || description.trim() === '') problems.push(`${at}: "description" must give the assertion's TAP description`);
    const defect = parseDefect(item, at, problems);
    if (defect !== null && typeof description === 'string') defects.push({ assertion: assertion as number, description, ...defect });
  });
  return problems.length > before ? null : defects;
}

function parseMinOk(entry: Record<string, unknown>, where: string, problems: string[]): number | null {
  const minOk = entry['minOk'];
  if (Number.isInteger(minOk) && (minOk as number) >= 0) return minOk as number;
  problems.push(`${where}: "minOk" must be a non-negative integer`);
  return null;
}

function parseReason(entry: Record<string, unknown>, where: string, problems: string[]): string | null {
  const reason = entry['reason'];
  if (typeof reason === 'string' && reason.trim() !== '') return reason;
  problems.push(`${where}: "reason" must say why`);
  return null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(value: Record<string, unknown>, allowed: readonly string[], where: string, problems: string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) problems.push(`${where}: unknown key "${key}"`);
  }
}

export interface Verdict {
  /** Why this program breaks its expectation (or the expectation is itself wrong). */
  readonly regression: string | null;
  /** Good news worth acting on, e.g. a pending program that now passes. */
  readonly notice: string | null;
}

export interface JudgeOptions {
  /** The guest boot of .ci/cgroup2-vm this run is inside, whose `guest` programs must pass; null on the host. */
  readonly guest: GuestBoot | null;
}

const verdict = (regression: string | null, notice: string | null = null): Verdict => ({ regression, notice });

/** Judges one program's run against its expectation (on the host unless told otherwise). */
export function judgeProgram(
  name: string,
  expectation: Expectation | undefined,
  program: SuiteProgram | undefined,
  run: ProgramRun | undefined,
  options: JudgeOptions = { guest: null },
): Verdict {
  if (program === undefined) return verdict(`${name} is in expectations.json but not in the suite`);
  if (expectation === undefined) return verdict(`${name} has no entry in expectations.json: review it and add one`);
  switch (expectation.status) {
    case 'not-applicable':
      return verdict(
        program.readsCgroups
          ? null
          : `${name} is marked not-applicable, but it does not read cgroups: not-applicable is only for the suite's cgroup-v1-only readers`,
      );
    case 'pass':
      return judgePass(name, expectation.minOk, expectation.suiteDefects ?? [], run);
    case 'guest':
      // Elsewhere it fails for want of what only its guest boot has: shown, never judged.
      return options.guest === expectation.boot ? judgePass(name, expectation.minOk, expectation.suiteDefects ?? [], run) : verdict(null);
    case 'suite-defect': {
      if (run === undefined) return verdict(`${name} is a suite defect that must fail as its entry says, but was not run`);
      const summary = summarize(run);
      if (summary.clean) return verdict(`${name} passes now, though marked suite-defect: the suite's behaviour changed, review the entry`);
      if (summary.firstFailure?.startsWith(expectation.failure) !== true) {
        return verdict(`${name} is marked suite-defect for "${expectation.failure}", but fails otherwise: ${summary.firstFailure ?? 'failed'}`);
      }
      return verdict(null);
    }
    case 'pending': {
      if (run === undefined) return verdict(null);
      const summary = summarize(run);
      if (!summary.clean) return verdict(null);
      // A *_fail program passes whenever the runtime errors, and a lifecycle one reports through
      // `1..0`: with no ok to show, passing proves little until the runtime runs containers.
      const caveat = summary.ok === 0 ? ', with no ok: confirm by hand that it is not passing by failing early' : '';
      return verdict(
        null,
        `${name} passes now (${summary.ok} ok${caveat}): it could become {"status": "pass", "minOk": ${summary.ok}} (issue #${expectation.issue})`,
      );
    }
  }
}

function judgePass(name: string, minOk: number, defects: readonly AssertionDefect[], run: ProgramRun | undefined): Verdict {
  if (run === undefined) return verdict(`${name} is expected to pass but was not run`);
  for (const defect of defects) {
    const test = run.tap.tests.find((t) => t.number === defect.assertion);
    const label = `${name} #${defect.assertion} ("${defect.description}")`;
    if (test === undefined) return verdict(`${label} is a suite-defect entry, but the run has no assertion ${defect.assertion}: review the entry`);
    if (test.description.replace(/^-\s*/, '') !== defect.description) {
      return verdict(`${label} is a suite-defect entry, but assertion ${defect.assertion} is "${test.description}": review the entry`);
    }
    if (test.ok) return verdict(`${label} passes now, though marked suite-defect: the suite's behaviour changed, review the entry`);
  }
  const summary = summarize(run, defects.map((d) => d.assertion));
  if (!summary.clean) return verdict(`${name} is expected to pass: ${summary.firstFailure ?? 'failed'}`);
  if (summary.ok < minOk) return verdict(`${name} is expected to have at least ${minOk} ok, had ${summary.ok}`);
  return verdict(null);
}

/** Every suite-defect entry, whole programs and single assertions, with its program's name. */
export function defectsOf(expectations: Expectations): { program: string; defect: SuiteDefect }[] {
  return Object.entries(expectations.programs).flatMap(([program, entry]): { program: string; defect: SuiteDefect }[] => {
    if (entry.status === 'suite-defect') return [{ program, defect: entry }];
    if (entry.status === 'pass' || entry.status === 'guest') return (entry.suiteDefects ?? []).map((defect) => ({ program, defect }));
    return [];
  });
}

export interface CheckResult {
  readonly regressions: readonly string[];
  readonly notices: readonly string[];
}

export interface CheckOptions extends JudgeOptions {
  /** The selected programs; all of them when absent. */
  readonly only?: ReadonlySet<string>;
}

/**
 * Checks every selected program of the runtime under test. With the full suite selected, entries
 * naming programs the suite does not have are regressions too.
 */
export function checkExpectations(
  expectations: Expectations,
  suiteVersion: string,
  programs: readonly SuiteProgram[],
  runs: ReadonlyMap<string, ProgramRun>,
  options: CheckOptions,
): CheckResult {
  const { only } = options;
  const regressions: string[] = [];
  const notices: string[] = [];
  if (expectations.suite !== suiteVersion) {
    regressions.push(`expectations.json was reviewed against suite ${expectations.suite}, the pin is ${suiteVersion}: review it`);
  }
  const byName = new Map(programs.map((program) => [program.name, program]));
  const names = new Set([...byName.keys(), ...Object.keys(expectations.programs)]);
  for (const name of [...names].sort()) {
    if (only !== undefined && !only.has(name)) continue;
    const { regression, notice } = judgeProgram(name, expectations.programs[name], byName.get(name), runs.get(name), options);
    if (regression !== null) regressions.push(regression);
    if (notice !== null) notices.push(notice);
  }
  return { regressions, notices };
}
