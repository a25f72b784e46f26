import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkExpectations, ExpectationsError, judgeProgram, parseExpectations, type Expectations } from './harness/expectations.js';
import type { Outcome, ProgramRun } from './harness/run.js';
import { SUITE, type SuiteProgram } from './harness/suite.js';
import { checkDefectQuotes } from './harness/suite-defect.js';
import { parseTap } from './harness/tap.js';

const VERSION = 'v0.9.1-0.20260316125833-8a4db579f5c8';

function program(name: string, readsCgroups = false): SuiteProgram {
  return { name, binary: `/scratch/bin/${name}`, buildError: null, readsCgroups };
}

function run(name: string, tap: string, outcome: Outcome = 'completed', stderr = ''): ProgramRun {
  return {
    program: name,
    runtime: 'tsrun',
    outcome,
    exit: outcome === 'completed' ? '0' : '1',
    durationMs: 1200,
    tap: parseTap(tap),
    stderr,
    error: null,
    cleanup: [],
  };
}

const PASSING = 'TAP version 13\nok 1 - a\nok 2 - b\nok 3 # SKIP c\n1..3\n';
const FAILING = 'TAP version 13\nok 1 - a\nnot ok 2 - state is running\n  ---\n  {"error": "status is created"}\n  ...\n1..2\n';

describe('parseExpectations', () => {
  it('accepts the four kinds of entry', () => {
    const parsed = parseExpectations({
      $comment: 'reviewed like code',
      suite: VERSION,
      programs: {
        create: { status: 'pass', minOk: 4 },
        poststop: { status: 'pass', minOk: 0 },
        linux_cgroups_pids: { status: 'not-applicable', reason: 'cgroup v1 readers' },
        kill: { status: 'pending', issue: 3 },
        process_capabilities: { status: 'guest', minOk: 270, reason: 'root lacks CAP_SYS_RESOURCE' },
        linux_cgroups_hugetlb: { status: 'guest', minOk: 3, reason: 'no v1 hugetlb hierarchy', boot: 'cgroup-v1' },
      },
    });
    expect(parsed.programs['create']).toEqual({ status: 'pass', minOk: 4 });
    expect(parsed.programs['kill']).toEqual({ status: 'pending', issue: 3 });
    // A guest entry without a boot is for the pure cgroup v2 boot.
    expect(parsed.programs['process_capabilities']).toEqual({ status: 'guest', minOk: 270, reason: 'root lacks CAP_SYS_RESOURCE', boot: 'cgroup-v2' });
    expect(parsed.programs['linux_cgroups_hugetlb']).toEqual({ status: 'guest', minOk: 3, reason: 'no v1 hugetlb hierarchy', boot: 'cgroup-v1' });
  });

  it('lists every problem at once: bad status, missing fields, unknown keys', () => {
    const attempt = (): Expectations =>
      parseExpectations({
        suite: VERSION,
        programs: {
          a: { status: 'passing' },
          b: { status: 'pass' },
          c: { status: 'not-applicable', reason: ' ' },
          d: { status: 'pending', issue: 3, note: 'x' },
          e: { status: 'pending', issue: 0 },
        },
      });
    expect(attempt).toThrow(ExpectationsError);
    expect(attempt).toThrow(/a: "status" must be/);
    expect(attempt).toThrow(/b: "minOk" must be/);
    expect(attempt).toThrow(/c: "reason" must say why/);
    expect(attempt).toThrow(/d: unknown key "note"/);
    expect(attempt).toThrow(/e: "issue" must be/);
  });

  it('requires a guest entry to give both minOk and a reason, and nothing else', () => {
    const attempt = (): Expectations =>
      parseExpectations({
        suite: VERSION,
        programs: {
          a: { status: 'guest', reason: 'no AppArmor' },
          b: { status: 'guest', minOk: -1, reason: 'no AppArmor' },
          c: { status: 'guest', minOk: 271 },
          d: { status: 'guest', minOk: 271, reason: 'no AppArmor', issue: 3 },
          f: { status: 'guest', minOk: 271, reason: 'no AppArmor', boot: 'v1' },
        },
      });
    expect(attempt).toThrow(/f: "boot" must be cgroup-v2 or cgroup-v1 or cgroup-v1-kmem/);
    expect(attempt).toThrow(/a: "minOk" must be a non-negative integer/);
    expect(attempt).toThrow(/b: "minOk" must be a non-negative integer/);
    expect(attempt).toThrow(/c: "reason" must say why/);
    expect(attempt).toThrow(/d: unknown key "issue"/);
    expect(() => parseExpectations({ suite: VERSION, programs: { e: { status: 'guest', minOk: 1.5, reason: ' ' } } })).toThrow(
      /e: "minOk" must be a non-negative integer\n.*e: "reason" must say why/,
    );
  });

  it('accepts suite-defect entries, for a whole program or listed assertions, and requires each to prove itself', () => {
    const defect = { file: 'validation/a/a.go', line: 12, quote: 't.Ok(a == b, "a")', why: 'compares pointers', replay: 'spec-tests/replays/a.tap' };
    const parsed = parseExpectations({
      suite: VERSION,
      programs: {
        a: { status: 'pass', minOk: 2, suiteDefects: [{ assertion: 3, description: 'a', ...defect }] },
        b: { status: 'suite-defect', failure: 'error diagnostic: b', ...defect },
      },
    });
    expect(parsed.programs['a']).toEqual({ status: 'pass', minOk: 2, suiteDefects: [{ assertion: 3, description: 'a', ...defect }] });
    expect(parsed.programs['b']).toEqual({ status: 'suite-defect', failure: 'error diagnostic: b', ...defect });
    const attempt = (): Expectations =>
      parseExpectations({
        suite: VERSION,
        programs: {
          c: { status: 'pass', minOk: 1, suiteDefects: [] },
          d: { status: 'pass', minOk: 1, suiteDefects: [{ ...defect, description: 'd' }] },
          e: { status: 'suite-defect', ...defect, quote: ' padded ', why: '' },
          f: { status: 'suite-defect', ...defect, line: 0, failure: 'x', reason: 'runc fails it too' },
        },
      });
    expect(attempt).toThrow(/c: "suiteDefects" must be a non-empty list/);
    expect(attempt).toThrow(/d: suiteDefects\[0\]: "assertion" must be the assertion's number/);
    expect(attempt).toThrow(/e: "failure" must say how the program fails/);
    expect(attempt).toThrow(/e: "why" must be a non-empty string/);
    expect(attempt).toThrow(/e: "quote" must be trimmed/);
    expect(attempt).toThrow(/f: unknown key "reason"/);
    expect(attempt).toThrow(/f: "line" must be a line number/);
  });

  it('requires the suite version and a programs object', () => {
    expect(() => parseExpectations({ programs: {} })).toThrow(/"suite"/);
    expect(() => parseExpectations({ suite: VERSION, programs: [] })).toThrow(/"programs" must be an object/);
    expect(() => parseExpectations([])).toThrow(/JSON object/);
  });

  it('accepts the committed spec-tests/expectations.json, reviewed against the pinned suite', () => {
    const committed = parseExpectations(JSON.parse(readFileSync(new URL('./expectations.json', import.meta.url), 'utf8')));
    expect(committed.suite).toBe(SUITE.version);
    for (const [name, entry] of Object.entries(committed.programs)) {
      if (entry.status === 'not-applicable') expect(name).toMatch(/^linux_cgroups_|^delete_resources$/);
    }
  });
});

describe('judgeProgram', () => {
  it('passes a clean run with enough ok', () => {
    expect(judgeProgram('create', { status: 'pass', minOk: 2 }, program('create'), run('create', PASSING))).toEqual({ regression: null, notice: null });
  });

  it('flags a pass program with a not ok, with the failure in the message', () => {
    const verdict = judgeProgram('state', { status: 'pass', minOk: 1 }, program('state'), run('state', FAILING));
    expect(verdict.regression).toBe('state is expected to pass: not ok 2 state is running: status is created');
  });

  it('flags a pass program that ran fewer checks than minOk (skips do not count)', () => {
    const verdict = judgeProgram('create', { status: 'pass', minOk: 3 }, program('create'), run('create', PASSING));
    expect(verdict.regression).toBe('create is expected to have at least 3 ok, had 2');
  });

  it('flags a pass program that crashed, timed out, or was not run', () => {
    const crashed = run('kill', 'TAP version 13\nok 1 - a\n', 'crashed', 'failed to create the container\nexit status 1\n');
    expect(judgeProgram('kill', { status: 'pass', minOk: 1 }, program('kill'), crashed).regression).toBe(
      'kill is expected to pass: exit 1: failed to create the container exit status 1',
    );
    const timedOut = run('kill', 'TAP version 13\nok 1 - a\n', 'timeout');
    expect(judgeProgram('kill', { status: 'pass', minOk: 1 }, program('kill'), timedOut).regression).toBe(
      'kill is expected to pass: timed out after 1 s',
    );
    expect(judgeProgram('kill', { status: 'pass', minOk: 1 }, program('kill'), undefined).regression).toBe(
      'kill is expected to pass but was not run',
    );
  });

  it('flags a pass program that could not be built', () => {
    const notBuilt: ProgramRun = { ...run('start', ''), outcome: 'not-run', exit: null, error: 'build failed: undefined: specs.LinuxPids' };
    expect(judgeProgram('start', { status: 'pass', minOk: 1 }, { ...program('start'), binary: null }, notBuilt).regression).toBe(
      'start is expected to pass: not run: build failed: undefined: specs.LinuxPids',
    );
  });

  it('flags a lifecycle program whose error block says it failed, even with minOk 0', () => {
    const failed = run('prestart', 'TAP version 13\n  ---\n  {\n    "error": "The prestart hooks MUST be invoked by the runtime"\n  }\n  ...\n1..0\n');
    expect(judgeProgram('prestart', { status: 'pass', minOk: 0 }, program('prestart'), failed).regression).toBe(
      'prestart is expected to pass: error diagnostic: The prestart hooks MUST be invoked by the runtime',
    );
    const passed = run('prestart', 'TAP version 13\n1..0\n');
    expect(judgeProgram('prestart', { status: 'pass', minOk: 0 }, program('prestart'), passed).regression).toBeNull();
  });

  it('never flags a pending program, and notices one that passes now', () => {
    expect(judgeProgram('state', { status: 'pending', issue: 3 }, program('state'), run('state', FAILING))).toEqual({ regression: null, notice: null });
    expect(judgeProgram('create', { status: 'pending', issue: 3 }, program('create'), run('create', PASSING)).notice).toBe(
      'create passes now (2 ok): it could become {"status": "pass", "minOk": 2} (issue #3)',
    );
  });

  it('adds a caveat when a pending program passes without a single ok', () => {
    const silent = run('process_rlimits_fail', '');
    expect(judgeProgram('process_rlimits_fail', { status: 'pending', issue: 3 }, program('process_rlimits_fail'), silent).notice).toBe(
      'process_rlimits_fail passes now (0 ok, with no ok: confirm by hand that it is not passing by failing early): ' +
        'it could become {"status": "pass", "minOk": 0} (issue #3)',
    );
  });

  it('accepts not-applicable only for programs that read cgroups', () => {
    const reason = { status: 'not-applicable', reason: 'cgroup v1 readers' } as const;
    expect(judgeProgram('linux_cgroups_pids', reason, program('linux_cgroups_pids', true), run('linux_cgroups_pids', FAILING)).regression).toBeNull();
    expect(judgeProgram('hostname', reason, program('hostname', false), run('hostname', FAILING)).regression).toMatch(
      /hostname is marked not-applicable, but it does not read cgroups/,
    );
  });

  it('judges a guest program like a pass program inside the guest', () => {
    const guest = { status: 'guest', minOk: 2, reason: 'root lacks CAP_SYS_RESOURCE', boot: 'cgroup-v2' } as const;
    const inGuest = { guest: 'cgroup-v2' } as const;
    expect(judgeProgram('caps', guest, program('caps'), run('caps', PASSING), inGuest)).toEqual({ regression: null, notice: null });
    expect(judgeProgram('caps', guest, program('caps'), run('caps', FAILING), inGuest).regression).toBe(
      'caps is expected to pass: not ok 2 state is running: status is created',
    );
    expect(judgeProgram('caps', { ...guest, minOk: 3 }, program('caps'), run('caps', PASSING), inGuest).regression).toBe(
      'caps is expected to have at least 3 ok, had 2',
    );
    expect(judgeProgram('caps', guest, program('caps'), undefined, inGuest).regression).toBe('caps is expected to pass but was not run');
  });

  it('never flags nor notices a guest program on the host, which is the default, nor in the other boot', () => {
    const guest = { status: 'guest', minOk: 2, reason: 'root lacks CAP_SYS_RESOURCE', boot: 'cgroup-v2' } as const;
    const quiet = { regression: null, notice: null };
    expect(judgeProgram('caps', guest, program('caps'), run('caps', FAILING), { guest: null })).toEqual(quiet);
    expect(judgeProgram('caps', guest, program('caps'), run('caps', FAILING), { guest: 'cgroup-v1' })).toEqual(quiet);
    expect(judgeProgram('caps', { ...guest, boot: 'cgroup-v1' }, program('caps'), run('caps', FAILING), { guest: 'cgroup-v2' })).toEqual(quiet);
    expect(judgeProgram('caps', { ...guest, boot: 'cgroup-v1' }, program('caps'), run('caps', FAILING), { guest: 'cgroup-v1' }).regression).toBe(
      'caps is expected to pass: not ok 2 state is running: status is created',
    );
    expect(judgeProgram('caps', guest, program('caps'), run('caps', PASSING))).toEqual(quiet);
    expect(judgeProgram('caps', guest, program('caps'), undefined)).toEqual(quiet);
    expect(judgeProgram('caps', guest, undefined, undefined).regression).toBe('caps is in expectations.json but not in the suite');
  });

  it('flags programs missing from either side', () => {
    expect(judgeProgram('time_ns', undefined, program('time_ns'), run('time_ns', PASSING)).regression).toBe(
      'time_ns has no entry in expectations.json: review it and add one',
    );
    expect(judgeProgram('gone', { status: 'pending', issue: 3 }, undefined, undefined).regression).toBe(
      'gone is in expectations.json but not in the suite',
    );
  });
});

describe('checkDefectQuotes', () => {
  it('accepts a quote that the pinned source has at its line, and names each that it does not', async () => {
    const source = mkdtempSync(join(tmpdir(), 'suite-src-'));
    mkdirSync(join(source, 'validation'));
    writeFileSync(join(source, 'validation', 'a.go'), 'package main\n\n\tt.Ok(a == b, "a")\n');
    const defect = { file: 'validation/a.go', line: 3, quote: 't.Ok(a == b, "a")', why: 'why', replay: 'r.tap' };
    expect(await checkDefectQuotes([{ program: 'a', defect }], source)).toEqual([]);
    const problems = await checkDefectQuotes(
      [
        { program: 'moved', defect: { ...defect, line: 2 } },
        { program: 'gone', defect: { ...defect, file: 'validation/b.go' } },
      ],
      source,
    );
    expect(problems).toHaveLength(2);
    expect(problems[0]).toBe('moved: the suite-defect entry quotes validation/a.go:2 as "t.Ok(a == b, \\"a\\")", the suite has "" there: the suite changed, review the entry');
    expect(problems[1]).toMatch(/^gone: the suite-defect entry quotes validation\/b.go, which the suite does not have/);
    rmSync(source, { recursive: true });
  });
});

describe('checkExpectations', () => {
  const expectations: Expectations = {
    suite: VERSION,
    programs: {
      create: { status: 'pass', minOk: 2 },
      state: { status: 'pass', minOk: 1 },
      kill: { status: 'pending', issue: 3 },
      linux_cgroups_pids: { status: 'not-applicable', reason: 'cgroup v1 readers' },
      removed: { status: 'pending', issue: 3 },
    },
  };
  const programs = [program('create'), program('state'), program('kill'), program('linux_cgroups_pids', true), program('added')];
  const runs = new Map([
    ['create', run('create', PASSING)],
    ['state', run('state', FAILING)],
    ['kill', run('kill', PASSING)],
    ['linux_cgroups_pids', run('linux_cgroups_pids', FAILING)],
    ['added', run('added', PASSING)],
  ]);

  it('reports regressions and notices in program order', () => {
    const result = checkExpectations(expectations, VERSION, programs, runs, { guest: null });
    expect(result.regressions).toEqual([
      'added has no entry in expectations.json: review it and add one',
      'removed is in expectations.json but not in the suite',
      'state is expected to pass: not ok 2 state is running: status is created',
    ]);
    expect(result.notices).toEqual(['kill passes now (2 ok): it could become {"status": "pass", "minOk": 2} (issue #3)']);
  });

  it('checks only the selected programs with --only', () => {
    const result = checkExpectations(expectations, VERSION, programs, runs, { only: new Set(['create', 'kill']), guest: null });
    expect(result.regressions).toEqual([]);
    expect(result.notices).toHaveLength(1);
  });

  it('refuses expectations reviewed against another suite version', () => {
    const result = checkExpectations(expectations, 'v0.9.1-0.20990101000000-000000000000', programs, runs, {
      only: new Set(['create']),
      guest: null,
    });
    expect(result.regressions).toEqual([
      `expectations.json was reviewed against suite ${VERSION}, the pin is v0.9.1-0.20990101000000-000000000000: review it`,
    ]);
  });

  it('finds no regression when every program meets its expectation', () => {
    const clean = new Map(runs);
    clean.set('state', run('state', PASSING));
    const result = checkExpectations({ ...expectations, programs: { ...expectations.programs, added: { status: 'pending', issue: 3 } } }, VERSION, programs.slice(0, 5), clean, {
      only: new Set(['create', 'state', 'kill', 'linux_cgroups_pids', 'added']),
      guest: null,
    });
    expect(result.regressions).toEqual([]);
  });

  it('flags a failing guest program only when the run is inside the guest', () => {
    const withGuest: Expectations = {
      ...expectations,
      programs: { ...expectations.programs, caps: { status: 'guest', minOk: 1, reason: 'root lacks CAP_SYS_RESOURCE', boot: 'cgroup-v2' } },
    };
    const guestRuns = new Map([...runs, ['caps', run('caps', FAILING)]]);
    const all = [...programs, program('caps')];
    const only = new Set(['caps']);
    expect(checkExpectations(withGuest, VERSION, all, guestRuns, { only, guest: null })).toEqual({ regressions: [], notices: [] });
    expect(checkExpectations(withGuest, VERSION, all, guestRuns, { only, guest: 'cgroup-v2' }).regressions).toEqual([
      'caps is expected to pass: not ok 2 state is running: status is created',
    ]);
  });
});
