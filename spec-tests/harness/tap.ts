/** A parser for the TAP 13 the suite prints (github.com/mndrix/tap-go), lenient like `prove`. */

export type Directive = { readonly kind: 'skip' | 'todo'; readonly reason: string };

export interface TapTest {
  readonly ok: boolean;
  readonly number: number | null;
  readonly description: string;
  readonly directive: Directive | null;
  /** The YAML diagnostic block that followed the test line, as text. */
  readonly yaml: string | null;
  /** Top-level scalars of that block (tap-go writes JSON, other producers YAML). */
  readonly diagnostics: Readonly<Record<string, string>>;
  /** `# ...` lines that followed the test line (the suite prints expected/actual values so). */
  readonly comments: readonly string[];
}

export interface TapPlan {
  readonly count: number;
  /** `1..0 # skip reason`: the whole program was skipped. */
  readonly skipAll: boolean;
  readonly reason: string;
}

export interface TapCounts {
  /** Passing tests without a directive. */
  readonly ok: number;
  /** Failing tests without a TODO directive. */
  readonly notOk: number;
  readonly skipped: number;
  readonly todo: number;
}

export interface TapResult {
  /** One plan per TAP stream: a program may print several streams back to back. */
  readonly plans: readonly TapPlan[];
  readonly tests: readonly TapTest[];
  /** `# ...` lines before the first test. */
  readonly comments: readonly string[];
  /**
   * Diagnostic blocks that follow no test. The suite's lifecycle programs (hooks, prestart, ...)
   * report their verdict this way: an `error` block then `1..0` on failure, a bare `1..0` on success.
   */
  readonly orphanDiagnostics: readonly Readonly<Record<string, string>>[];
  readonly bailOut: string | null;
  readonly counts: TapCounts;
  /** Protocol-level faults: no plan, plan/count mismatch, two plans in one stream. */
  readonly problems: readonly string[];
}

const VERSION = /^TAP version \d+$/i;
const PLAN = /^1\.\.(\d+)\s*(?:#\s*(.*))?$/;
const TEST = /^(not )?ok\b\s*(\d+)?\s*(.*)$/;
// The directive is the last ` # SKIP ...`/` # TODO ...`; any other `#` belongs to the description.
const DIRECTIVE = /(?:^|\s)#\s*(skip\S*|todo\S*)(?:\s+(.*))?$/i;
const YAML_START = /^(\s+)---\s*$/;

interface Stream {
  plan: TapPlan | null;
  tests: number;
}

export function parseTap(output: string): TapResult {
  const lines = output.split(/\r?\n/);
  const tests: TapTest[] = [];
  const comments: string[] = [];
  const orphanDiagnostics: Record<string, string>[] = [];
  const problems: string[] = [];
  const plans: TapPlan[] = [];
  let bailOut: string | null = null;
  // A stream opens with `TAP version` or its first test or plan. A program may print no TAP at
  // all: the suite's *_fail programs stay silent and exit 0 when the runtime rightly refuses.
  const streams: Stream[] = [];
  const current = (): Stream => {
    const last = streams[streams.length - 1];
    if (last !== undefined) return last;
    const opened = { plan: null, tests: 0 };
    streams.push(opened);
    return opened;
  };
  // The test a following YAML block belongs to: only the one printed just before it.
  let yamlOwner: number | null = null;

  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? '';
    const yamlStart = YAML_START.exec(line);
    if (yamlStart !== null) {
      const end = findYamlEnd(lines, index + 1, yamlStart[1] ?? '');
      const body = dedent(lines.slice(index + 1, end), yamlStart[1]?.length ?? 0);
      const owner = yamlOwner === null ? undefined : tests[yamlOwner];
      if (yamlOwner !== null && owner !== undefined) tests[yamlOwner] = { ...owner, yaml: body, diagnostics: readDiagnostics(body) };
      else orphanDiagnostics.push(readDiagnostics(body));
      yamlOwner = null;
      index = end;
      continue;
    }

    const trimmed = line.trim();
    if (VERSION.test(trimmed)) {
      const last = streams[streams.length - 1];
      if (last === undefined || last.plan !== null || last.tests > 0) streams.push({ plan: null, tests: 0 });
      yamlOwner = null;
      continue;
    }

    const planMatch = PLAN.exec(trimmed);
    if (planMatch !== null) {
      const stream = current();
      if (stream.plan !== null) problems.push(`second plan "${trimmed}" in one stream`);
      const count = Number(planMatch[1]);
      const comment = planMatch[2]?.trim() ?? '';
      const skip = /^skip\S*\s*(.*)$/i.exec(comment);
      stream.plan = { count, skipAll: count === 0, reason: skip !== null ? (skip[1] ?? '') : comment };
      plans.push(stream.plan);
      yamlOwner = null;
      continue;
    }

    const testMatch = TEST.exec(trimmed);
    if (testMatch !== null) {
      tests.push(parseTestLine(testMatch[1] === undefined, testMatch[2], testMatch[3] ?? ''));
      current().tests++;
      yamlOwner = tests.length - 1;
      continue;
    }

    const previous = tests[tests.length - 1];
    if (trimmed.startsWith('#')) {
      const comment = trimmed.replace(/^#\s?/, '');
      if (previous === undefined) comments.push(comment);
      else tests[tests.length - 1] = { ...previous, comments: [...previous.comments, comment] };
    } else if (/^Bail out!/i.test(trimmed)) {
      bailOut = trimmed.replace(/^Bail out!\s*/i, '');
    }
  }

  if (bailOut === null) {
    for (const { plan, tests: count } of streams) {
      if (plan === null) problems.push('no plan: the program stopped before finishing');
      else if (plan.count !== count) problems.push(`planned ${plan.count} tests, ran ${count}`);
    }
  }
  return { plans, tests, comments, orphanDiagnostics, bailOut, counts: countTests(tests), problems };
}

function parseTestLine(ok: boolean, number: string | undefined, rest: string): TapTest {
  const directiveMatch = DIRECTIVE.exec(rest);
  const description = (directiveMatch === null ? rest : rest.slice(0, directiveMatch.index))
    .replace(/^-\s*/, '')
    .trim();
  const directive: Directive | null =
    directiveMatch === null
      ? null
      : {
          kind: (directiveMatch[1] ?? '').toLowerCase().startsWith('skip') ? 'skip' : 'todo',
          reason: directiveMatch[2]?.trim() ?? '',
        };
  return { ok, number: number === undefined ? null : Number(number), description, directive, yaml: null, diagnostics: {}, comments: [] };
}

/** Index of the `...` line closing a YAML block (or the first line back at a lower indent). */
function findYamlEnd(lines: readonly string[], from: number, indent: string): number {
  for (let index = from; index < lines.length; index++) {
    const line = lines[index] ?? '';
    if (line.trim() === '...' && line.startsWith(indent)) return index;
    if (line.trim() !== '' && !line.startsWith(indent)) return index - 1;
  }
  return lines.length - 1;
}

function dedent(lines: readonly string[], width: number): string {
  return lines.map((line) => line.slice(Math.min(width, line.length - line.trimStart().length))).join('\n');
}

function readDiagnostics(body: string): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      return Object.fromEntries(Object.entries(parsed).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]));
    }
  } catch {
    // Not JSON: read it as YAML below.
  }
  return readYamlScalars(body);
}

/** Top-level `key: value` and `key: |` block scalars; enough for diagnostics, not a YAML parser. */
function readYamlScalars(body: string): Record<string, string> {
  const result: Record<string, string> = {};
  const lines = body.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const match = /^([A-Za-z_][\w-]*):\s*(.*)$/.exec(lines[index] ?? '');
    if (match === null) continue;
    const key = match[1] ?? '';
    const value = match[2] ?? '';
    if (/^[|>][-+]?$/.test(value)) {
      const block: string[] = [];
      while (/^\s+\S/.test(lines[index + 1] ?? '')) {
        block.push((lines[++index] ?? '').trim());
      }
      result[key] = block.join(value.startsWith('>') ? ' ' : '\n');
    } else {
      result[key] = unquote(value.trim());
    }
  }
  return result;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    try {
      return JSON.parse(value) as string;
    } catch {
      return value.slice(1, -1);
    }
  }
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1).replaceAll("''", "'");
  return value;
}

function countTests(tests: readonly TapTest[]): TapCounts {
  let ok = 0;
  let notOk = 0;
  let skipped = 0;
  let todo = 0;
  for (const test of tests) {
    if (test.directive?.kind === 'skip') skipped++;
    else if (test.directive?.kind === 'todo') todo++;
    else if (test.ok) ok++;
    else notOk++;
  }
  return { ok, notOk, skipped, todo };
}
