import { describe, expect, it } from 'vitest';
import type { Expectations, GuestBoot } from './harness/expectations.js';
import { renderReport, resultsFile, type ReportInput } from './harness/report.js';
import type { ProgramRun } from './harness/run.js';
import { SUITE, type SuiteBuild } from './harness/suite.js';
import { parseTap } from './harness/tap.js';

const suite: SuiteBuild = {
  version: SUITE.version,
  goVersion: 'go1.26.8',
  scratchDir: '/tmp/tsrun-spec-tests/x',
  sourceDir: '/tmp/tsrun-spec-tests/x/src',
  workDir: '/tmp/tsrun-spec-tests/x/work',
  programs: [
    { name: 'create', binary: '/b/create', buildError: null, readsCgroups: false },
    { name: 'linux_cgroups_pids', binary: '/b/linux_cgroups_pids', buildError: null, readsCgroups: true },
  ],
  builtCount: 0,
  cachedCount: 3,
  failedCount: 0,
  durationMs: 400,
};
const expectations: Expectations = {
  suite: SUITE.version,
  programs: {
    create: { status: 'pending', issue: 3 },
    linux_cgroups_pids: { status: 'not-applicable', reason: 'The suite reads cgroup v1 only.' },
  },
};
const runcRun = (program: string): ProgramRun => ({
  program,
  runtime: 'runc',
  outcome: 'completed',
  exit: '0',
  durationMs: 300,
  tap: parseTap('ok 1 - a\n1..1\n'),
  stderr: '',
  error: null,
  cleanup: program === 'create' ? ['container abc left behind (deleted)'] : [],
});

function input(overrides: Partial<ReportInput> = {}): ReportInput {
  return {
    date: new Date('2026-01-02T03:04:05Z'),
    command: 'node dist/spec-tests/run-suite.js --runtime none',
    suite,
    host: { kernel: '6.1.0', cgroups: 'cgroup v2 (unified)', node: 'v20.20.0' },
    tsrunCommit: 'abc1234',
    columns: [
      { column: { name: 'tsrun', runs: null }, role: 'under test', description: 'not run (`--runtime none`)', durationMs: null },
      {
        column: { name: 'runc', runs: new Map([['create', runcRun('create')], ['linux_cgroups_pids', runcRun('linux_cgroups_pids')]]) },
        role: 'reference',
        description: '`/usr/sbin/runc`: runc version 1.1.5',
        durationMs: 61_000,
      },
    ],
    programs: ['create', 'linux_cgroups_pids'],
    expectations,
    guest: null,
    check: null,
    ...overrides,
  };
}

const withGuest: Expectations = {
  ...expectations,
  programs: {
    ...expectations.programs,
    process_capabilities: { status: 'guest', minOk: 270, reason: 'Root here lacks CAP_SYS_RESOURCE.', boot: 'cgroup-v2' },
    linux_cgroups_hugetlb: { status: 'guest', minOk: 3, reason: 'No v1 hugetlb hierarchy here.', boot: 'cgroup-v1' },
  },
};

describe('renderReport', () => {
  it('labels a reference-only run as such and gives the facts of the run', () => {
    const report = renderReport(input());
    expect(report).toContain('> **Reference column only.** tsrun was not run; 1 of its programs are pending (#3).');
    expect(report).toContain('| Date | 2026-01-02T03:04:05.000Z |');
    expect(report).toContain(`| Suite | \`${SUITE.module}@${SUITE.version}\` (2 programs; built with go1.26.8) |`);
    expect(report).toContain('| tsrun commit | abc1234 |');
    expect(report).toContain('| Where | on the host |');
    expect(report).toContain('| runc (reference) | `/usr/sbin/runc`: runc version 1.1.5 |');
    expect(report).toContain('- **tsrun** (under test): not run, so nothing was checked against spec-tests/expectations.json.');
    expect(report).toContain('- **runc** (reference): 2 ok, 0 not ok, 0 skipped (2 `ok` lines); 2 of 2 programs with no failure of any kind, 2 without a `not ok`, in 1 min 1 s.');
    expect(report).toContain('The runtime under test was not run, so the expectations were not checked.');
  });

  it('explains what is not applicable and lists what had to be cleaned up', () => {
    const report = renderReport(input());
    expect(report).toContain('- `linux_cgroups_pids`: The suite reads cgroup v1 only.');
    expect(report).toContain('- runc, `create`: container abc left behind (deleted)');
  });

  it('lists regressions and notices when the runtime under test ran', () => {
    const tsrun = { name: 'tsrun', runs: new Map([['create', runcRun('create')]]) };
    const columns = [{ column: tsrun, role: 'under test' as const, description: '`bin/tsrun`: tsrun version 0.1.0', durationMs: 1000 }];
    const report = renderReport(input({ columns, check: { regressions: ['create is expected to pass: exit 1: boom'], notices: [] } }));
    expect(report).not.toContain('Reference column only');
    expect(report).toContain('Regressions:\n- create is expected to pass: exit 1: boom');
  });

  it('counts guest programs and sends the reader to the run of each boot for their verdict', () => {
    const report = renderReport(input({ expectations: withGuest }));
    expect(report).toContain('spec-tests/expectations.json: 0 pass, 2 in the guest, 1 pending (#3), 1 not applicable.');
    expect(report).toContain(
      'In the pure cgroup v2 guest of .ci/cgroup2-vm. Here they run for information only; they are judged in spec-tests/RESULTS-guest.md, written by the run inside that guest.\n\n- `process_capabilities`: Root here lacks CAP_SYS_RESOURCE.',
    );
    expect(report).toContain('judged in spec-tests/RESULTS-guest-cgroup-v1.md, written by the run inside that guest.\n\n- `linux_cgroups_hugetlb`: No v1 hugetlb hierarchy here.');
  });

  it('says which guest the run is inside, where the programs of that boot are judged', () => {
    const report = renderReport(input({ expectations: withGuest, guest: 'cgroup-v1' }));
    expect(report).toContain('| Where | in .ci/cgroup2-vm (the cgroup v1 guest, TSRUN_VM_CGROUP=v1, with every v1 hierarchy its kernel has, under qemu) |');
    expect(report).toContain('This run is inside that guest, so they are judged here like the pass programs.\n\n- `linux_cgroups_hugetlb`');
    expect(report).toContain('judged in spec-tests/RESULTS-guest.md');
    expect(report).not.toContain('RESULTS-guest-cgroup-v1.md');
  });

  it('names one results file per place', () => {
    expect([null, 'cgroup-v2', 'cgroup-v1'].map((guest) => resultsFile(guest as GuestBoot | null))).toEqual([
      'RESULTS.md',
      'RESULTS-guest.md',
      'RESULTS-guest-cgroup-v1.md',
    ]);
  });

  it('says so when no program needs the guest', () => {
    expect(renderReport(input())).toContain('## In the guest\n\nEvery program can pass on the host.');
  });
});
