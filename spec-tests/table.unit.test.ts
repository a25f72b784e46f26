import { describe, expect, it } from 'vitest';
import type { ProgramRun } from './harness/run.js';
import { expectationLabel, resultTable, totals } from './harness/table.js';
import { parseTap } from './harness/tap.js';

function run(program: string, runtime: string, tap: string, outcome: ProgramRun['outcome'] = 'completed', stderr = ''): ProgramRun {
  return { program, runtime, outcome, exit: outcome === 'completed' ? '0' : '1', durationMs: 500, tap: parseTap(tap), stderr, error: null, cleanup: [] };
}

const tsrun = new Map([
  ['create', run('create', 'tsrun', 'ok 1 - a\nok 2 # SKIP b\n1..2\n')],
  ['kill', run('kill', 'tsrun', 'ok 1 - a\nnot ok 2 - signal | delivered\n  ---\n  {"error": "line one\\nline two"}\n  ...\n1..2\n')],
  ['start', run('start', 'tsrun', 'ok 1 - a\n', 'crashed', 'failed to create the container\ntime="2026-01-01T00:00:00Z" level=error msg="no"\nexit status 1\n')],
]);
const runc = new Map([
  ['create', run('create', 'runc', 'ok 1 - a\nok 2 - b\n1..2\n')],
  ['kill', run('kill', 'runc', 'ok 1 - a\nok 2 - b\n1..2\n')],
  ['start', run('start', 'runc', 'ok 1 - a\n1..1\n')],
]);
const programs = ['create', 'kill', 'start'];

describe('resultTable', () => {
  it('puts both runtimes side by side with their first failure on one escaped line', () => {
    const table = resultTable(programs, { create: { status: 'pass', minOk: 1 }, kill: { status: 'pending', issue: 3 } }, [
      { name: 'tsrun', runs: tsrun },
      { name: 'runc', runs: runc },
    ]);
    const lines = table.split('\n');
    expect(lines[0]).toBe(
      '| Program | Expected | tsrun ok | tsrun not ok | tsrun skip | runc ok | runc not ok | runc skip | tsrun first failure | runc first failure |',
    );
    expect(lines[2]).toBe('| `create` | pass (≥ 1 ok) | 1 | 0 | 1 | 2 | 0 | 0 |  |  |');
    expect(lines[3]).toBe('| `kill` | pending #3 | 1 | 1 | 0 | 2 | 0 | 0 | not ok 2 signal \\| delivered: line one line two |  |');
    expect(lines[4]).toBe('| `start` | unlisted | 1 | 0 | 0 | 1 | 0 | 0 | exit 1: failed to create the container level=error msg="no" exit status 1 |  |');
    expect(lines[5]).toBe(
      '| **total** |  | **3** | **1** | **1** | **5** | **0** | **0** | 1 of 3 programs with no failure | 3 of 3 programs with no failure |',
    );
  });

  it('shows a runtime that was not run as such', () => {
    const table = resultTable(['create'], {}, [
      { name: 'tsrun', runs: null },
      { name: 'runc', runs: runc },
    ]);
    expect(table.split('\n')[2]).toBe('| `create` | unlisted | — | — | — | 2 | 0 | 0 | not run |  |');
  });

  it('truncates long messages', () => {
    const long = run('kill', 'tsrun', `not ok 1 - ${'x'.repeat(300)}\n1..1\n`);
    const row = resultTable(['kill'], {}, [{ name: 'tsrun', runs: new Map([['kill', long]]) }]).split('\n')[2] ?? '';
    expect(row.endsWith('… |')).toBe(true);
    expect(row.length).toBeLessThan(220);
  });
});

describe('expectationLabel', () => {
  it('names every status, with the ok a passing program must reach', () => {
    expect(expectationLabel({ status: 'pass', minOk: 4 })).toBe('pass (≥ 4 ok)');
    expect(expectationLabel({ status: 'guest', minOk: 271, reason: 'no AppArmor', boot: 'cgroup-v2' })).toBe('in guest (≥ 271 ok)');
    expect(expectationLabel({ status: 'guest', minOk: 3, reason: 'no hugetlb hierarchy', boot: 'cgroup-v1' })).toBe('in v1 guest (≥ 3 ok)');
    expect(expectationLabel({ status: 'not-applicable', reason: 'cgroup v1 readers' })).toBe('n/a');
    expect(expectationLabel({ status: 'pending', issue: 3 })).toBe('pending #3');
    expect(expectationLabel(undefined)).toBe('unlisted');
  });
});

describe('totals', () => {
  it('counts ok, not ok, skips, clean programs and programs without a not ok', () => {
    expect(totals({ name: 'tsrun', runs: tsrun }, programs)).toEqual({ ok: 3, notOk: 1, excused: 0, skipped: 1, clean: 1, withoutNotOk: 2, ran: 3, programs: 3 });
  });
});
