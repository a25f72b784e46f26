import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Where the suite itself is wrong, so that no runtime passes a program or one of its numbered
 * assertions on any host. A host limit is not a suite defect (those run in the guest), and nor is
 * "runc fails it too". Each entry proves itself three ways:
 * - `quote` is the suite's wrong line, checked against `file`:`line` of the pinned source on every
 *   conformance run (checkDefectQuotes), so a bump of the pin that touches it is noticed;
 * - `why` says why no behaviour passes it;
 * - `replay` is the program's TAP output from a run of tsrun, which a unit test judges
 *   (spec-tests/suite-defects.unit.test.ts): excused as recorded, a regression once the assertion
 *   passes or fails differently, so the entry fails the day the suite's behaviour changes.
 */
export interface SuiteDefect {
  /** The suite's file, relative to its module root. */
  readonly file: string;
  readonly line: number;
  /** The text of that line, trimmed. */
  readonly quote: string;
  readonly why: string;
  /** The recorded TAP output, relative to the repository root. */
  readonly replay: string;
}

/** A numbered assertion of a program that otherwise passes. */
export interface AssertionDefect extends SuiteDefect {
  readonly assertion: number;
  /** The assertion's description, as the TAP line gives it: a renumbering is not excused. */
  readonly description: string;
}

export const DEFECT_KEYS = ['file', 'line', 'quote', 'why', 'replay'] as const;

/** Parses the fields every defect has; problems go to `problems`, and null is returned. */
export function parseDefect(entry: Record<string, unknown>, where: string, problems: string[]): SuiteDefect | null {
  const before = problems.length;
  const text = (key: string): string => {
    const value = entry[key];
    if (typeof value === 'string' && value.trim() !== '') return value;
    problems.push(`${where}: "${key}" must be a non-empty string`);
    return '';
  };
  const file = text('file');
  const quote = text('quote');
  const why = text('why');
  const replay = text('replay');
  const line = entry['line'];
  if (!Number.isInteger(line) || (line as number) < 1) problems.push(`${where}: "line" must be a line number`);
  if (quote !== quote.trim()) problems.push(`${where}: "quote" must be trimmed`);
  return problems.length > before ? null : { file, line: line as number, quote, why, replay };
}

/**
 * Checks each quote against the suite's source at the pin: the line must read exactly so.
 * Returns one problem per quote that does not match.
 */
export async function checkDefectQuotes(defects: readonly { readonly program: string; readonly defect: SuiteDefect }[], sourceDir: string): Promise<string[]> {
  const problems: string[] = [];
  for (const { program, defect } of defects) {
    let lines: string[];
    try {
      lines = (await readFile(join(sourceDir, defect.file), 'utf8')).split('\n');
    } catch (error) {
      problems.push(`${program}: the suite-defect entry quotes ${defect.file}, which the suite does not have (${(error as Error).message}): review it`);
      continue;
    }
    const actual = lines[defect.line - 1]?.trim();
    if (actual !== defect.quote) {
      problems.push(
        `${program}: the suite-defect entry quotes ${defect.file}:${defect.line} as ${JSON.stringify(defect.quote)}, ` +
          `the suite has ${JSON.stringify(actual ?? '')} there: the suite changed, review the entry`,
      );
    }
  }
  return problems;
}
