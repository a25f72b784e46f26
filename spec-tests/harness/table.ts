import type { Expectation, GuestBoot } from './expectations.js';
import type { ProgramRun } from './run.js';
import { summarize } from './summary.js';
import type { AssertionDefect } from './suite-defect.js';

/** One runtime's results; `runs` is null when that runtime was not run at all. */
export interface Column {
  readonly name: string;
  readonly runs: ReadonlyMap<string, ProgramRun> | null;
}

export interface ColumnTotals {
  readonly ok: number;
  /** `not ok` lines outside suite-defect assertions. */
  readonly notOk: number;
  /** `not ok` lines of suite-defect assertions. */
  readonly excused: number;
  readonly skipped: number;
  /** Programs that ran clean (no failure of any kind but suite-defect assertions). */
  readonly clean: number;
  /** Programs that ran and printed no `not ok` (crashes and error diagnostics aside). */
  readonly withoutNotOk: number;
  /** Programs that ran (whatever the outcome), of `programs`. */
  readonly ran: number;
  readonly programs: number;
}

/** Counts over `programs`; a `not ok` of a suite-defect assertion counts in `excused` instead. */
export function totals(column: Column, programs: readonly string[], expectations: Readonly<Record<string, Expectation>> = {}): ColumnTotals {
  let ok = 0;
  let notOk = 0;
  let excused = 0;
  let skipped = 0;
  let clean = 0;
  let withoutNotOk = 0;
  let ran = 0;
  for (const name of programs) {
    const run = column.runs?.get(name);
    if (run === undefined) continue;
    const summary = summarize(run, excusedAssertions(expectations[name]));
    ok += summary.ok;
    notOk += summary.notOk;
    excused += summary.excused;
    skipped += summary.skipped;
    if (summary.clean) clean++;
    if (run.outcome === 'not-run') continue;
    ran++;
    if (summary.notOk === 0) withoutNotOk++;
  }
  return { ok, notOk, excused, skipped, clean, withoutNotOk, ran, programs: programs.length };
}

/** The assertions an entry excuses as suite defects. */
export function excusedAssertions(expectation: Expectation | undefined): number[] {
  if (expectation === undefined || (expectation.status !== 'pass' && expectation.status !== 'guest')) return [];
  return (expectation.suiteDefects ?? []).map((defect) => defect.assertion);
}

function notOkCell(notOk: number, excused: number, bold = false): string {
  const count = bold ? `**${notOk}**` : String(notOk);
  return excused === 0 ? count : `${count} (+${excused} suite defect)`;
}

const MESSAGE_LIMIT = 160;

/** The side-by-side Markdown table: one row per program, then a totals row. */
export function resultTable(
  programs: readonly string[],
  expectations: Readonly<Record<string, Expectation>>,
  columns: readonly Column[],
): string {
  const header = ['Program', 'Expected'];
  for (const column of columns) header.push(`${column.name} ok`, `${column.name} not ok`, `${column.name} skip`);
  for (const column of columns) header.push(`${column.name} first failure`);

  const rows = programs.map((name) => {
    const cells = [`\`${name}\``, expectationLabel(expectations[name])];
    const failures: string[] = [];
    for (const column of columns) {
      const run = column.runs?.get(name);
      if (run === undefined) {
        cells.push('—', '—', '—');
        failures.push(column.runs === null ? 'not run' : '');
        continue;
      }
      const summary = summarize(run, excusedAssertions(expectations[name]));
      cells.push(String(summary.ok), notOkCell(summary.notOk, summary.excused), String(summary.skipped));
      failures.push(escape(summary.firstFailure ?? ''));
    }
    return [...cells, ...failures];
  });

  const totalCells = ['**total**', ''];
  const cleanCells: string[] = [];
  for (const column of columns) {
    if (column.runs === null) {
      totalCells.push('—', '—', '—');
      cleanCells.push('not run');
      continue;
    }
    const sum = totals(column, programs, expectations);
    totalCells.push(`**${sum.ok}**`, notOkCell(sum.notOk, sum.excused, true), `**${sum.skipped}**`);
    cleanCells.push(`${sum.clean} of ${sum.programs} programs with no failure`);
  }

  const lines = [header, header.map(() => '---'), ...rows, [...totalCells, ...cleanCells]];
  return lines.map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

const BOOT_LABEL: Readonly<Record<GuestBoot, string>> = { 'cgroup-v2': '', 'cgroup-v1': 'v1 ', 'cgroup-v1-kmem': 'v1 5.15 ' };

export function expectationLabel(expectation: Expectation | undefined): string {
  if (expectation === undefined) return 'unlisted';
  switch (expectation.status) {
    case 'pass':
      return `pass (≥ ${expectation.minOk} ok${defectNote(expectation.suiteDefects)})`;
    case 'guest':
      return `in ${BOOT_LABEL[expectation.boot]}guest (≥ ${expectation.minOk} ok${defectNote(expectation.suiteDefects)})`;
    case 'not-applicable':
      return 'n/a';
    case 'pending':
      return `pending #${expectation.issue}`;
    case 'suite-defect':
      return 'suite defect';
  }
}

function defectNote(defects: readonly AssertionDefect[] | undefined): string {
  return defects === undefined ? '' : `; suite defect: ${defects.map((d) => `#${d.assertion}`).join(', ')}`;
}

function escape(message: string): string {
  const oneLine = message.replace(/\s+/g, ' ').trim();
  const short = oneLine.length > MESSAGE_LIMIT ? `${oneLine.slice(0, MESSAGE_LIMIT - 1)}…` : oneLine;
  return short.replaceAll('\\', '\\\\').replaceAll('|', '\\|').replaceAll('<', '&lt;');
}
