import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { judgeProgram, loadExpectations, type Expectation } from './harness/expectations.js';
import type { ProgramRun } from './harness/run.js';
import type { SuiteProgram } from './harness/suite.js';
import { parseTap } from './harness/tap.js';

// Every suite-defect entry of expectations.json, replayed: the recorded TAP output of the program
// (a run of tsrun) is judged with the entry, and again with what would show that the suite's
// behaviour changed. The quotes themselves are checked against the pinned source by each
// conformance run (checkDefectQuotes), where the source is at hand.

const ROOT = join(import.meta.dirname, '..');
const expectations = await loadExpectations(join(ROOT, 'spec-tests', 'expectations.json'));

function program(name: string): SuiteProgram {
  return { name, binary: `/scratch/bin/${name}`, buildError: null, readsCgroups: false };
}

function replay(name: string, tap: string): ProgramRun {
  return { program: name, runtime: 'tsrun', outcome: 'completed', exit: '0', durationMs: 1, tap: parseTap(tap), stderr: '', error: null, cleanup: [] };
}

function judge(name: string, expectation: Expectation, tap: string): string | null {
  return judgeProgram(name, expectation, program(name), replay(name, tap)).regression;
}

/** The TAP with assertion `n`'s `not ok` turned into `ok`: what a fixed suite would print. */
function passing(tap: string, n: number): string {
  return tap.replace(new RegExp(`^not ok ${n}\\b`, 'm'), `ok ${n}`);
}

const entries = Object.entries(expectations.programs);
const assertionEntries = entries.flatMap(([name, entry]) =>
  entry.status === 'pass' || entry.status === 'guest' ? (entry.suiteDefects ?? []).map((defect) => ({ name, entry, defect })) : [],
);
const programEntries = entries.flatMap(([name, entry]) => (entry.status === 'suite-defect' ? [{ name, entry }] : []));

describe('suite-defect entries, replayed', () => {
  it('exist: the pids pointer compare, start #7, pidfile, process_rlimits #13 and hooks', () => {
    expect(assertionEntries.map(({ name, defect }) => `${name} #${defect.assertion}`).sort()).toEqual([
      'delete_resources #3',
      'linux_cgroups_pids #3',
      'linux_cgroups_relative_pids #3',
      'pidfile #1',
      'process_rlimits #13',
      'start #7',
    ]);
    expect(programEntries.map(({ name }) => name)).toEqual(['hooks']);
  });

  describe.each(assertionEntries)('$name #$defect.assertion', ({ name, entry, defect }) => {
    const tap = readFileSync(join(ROOT, defect.replay), 'utf8');

    it('is excused in the recorded run, and the run is otherwise clean', () => {
      expect(tap).toMatch(new RegExp(`^not ok ${defect.assertion} - ${escape(defect.description)}$`, 'm'));
      expect(judge(name, entry, tap)).toBeNull();
    });

    it('is what excuses it: without the entry, the recorded run is a regression', () => {
      const { suiteDefects: _, ...bare } = entry as Extract<Expectation, { status: 'pass' | 'guest' }>;
      expect(judge(name, bare as Expectation, tap)).toMatch(new RegExp(`is expected to pass: not ok ${defect.assertion} `));
    });

    it('fails the day the suite\'s behaviour changes: the assertion passing, or renumbered', () => {
      expect(judge(name, entry, passing(tap, defect.assertion))).toMatch(/passes now, though marked suite-defect/);
      const renumbered = tap.replace(new RegExp(`^not ok ${defect.assertion} - `, 'm'), `not ok ${defect.assertion} - renamed `);
      expect(judge(name, entry, renumbered)).toMatch(/review the entry/);
    });
  });

  describe.each(programEntries)('$name', ({ name, entry }) => {
    const tap = readFileSync(join(ROOT, entry.status === 'suite-defect' ? entry.replay : ''), 'utf8');

    it('fails as its entry says in the recorded run', () => {
      expect(judge(name, entry, tap)).toBeNull();
    });

    it('fails the day the suite\'s behaviour changes: a clean run, or another failure', () => {
      expect(judge(name, entry, 'TAP version 13\n1..0\n')).toMatch(/passes now, though marked suite-defect/);
      expect(judge(name, entry, 'TAP version 13\nnot ok 1 - something else\n1..1\n')).toMatch(/but fails otherwise: not ok 1 something else/);
    });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
