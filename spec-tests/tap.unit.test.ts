import { describe, expect, it } from 'vitest';
import { parseTap } from './harness/tap.js';

// Samples in the shape github.com/mndrix/tap-go prints for the validation programs: plan at the
// end (AutoPlan), JSON diagnostic blocks indented by two spaces.
const RUNTIME_INSIDE = `TAP version 13
ok 1 - has expected hostname
  ---
  {
    "actual": "box",
    "expected": "box"
  }
  ...
ok 2 # SKIP linux.sysctl not set
not ok 3 - has expected soft RLIMIT_NOFILE
  ---
  {
    "actual": 1024,
    "expected": 20000,
    "level": "MUST",
    "reference": "https://github.com/opencontainers/runtime-spec/blob/v1.3.0/config.md#posix-process"
  }
  ...
ok 4 - mount /proc has expected type
1..4
`;

describe('parseTap', () => {
  it('counts ok, not ok and skipped tests and reads their JSON diagnostics', () => {
    const result = parseTap(RUNTIME_INSIDE);
    expect(result.counts).toEqual({ ok: 2, notOk: 1, skipped: 1, todo: 0 });
    expect(result.plans).toEqual([{ count: 4, skipAll: false, reason: '' }]);
    expect(result.problems).toEqual([]);
    const failed = result.tests[2];
    expect(failed?.ok).toBe(false);
    expect(failed?.number).toBe(3);
    expect(failed?.description).toBe('has expected soft RLIMIT_NOFILE');
    expect(failed?.diagnostics).toMatchObject({ actual: '1024', expected: '20000', level: 'MUST' });
    expect(result.tests[1]?.directive).toEqual({ kind: 'skip', reason: 'linux.sysctl not set' });
    expect(result.tests[1]?.description).toBe('');
  });

  it('reads a skip-all plan with its reason', () => {
    const result = parseTap('TAP version 13\n1..0 # SKIP cgroup v1 is not mounted\n');
    expect(result.plans).toEqual([{ count: 0, skipAll: true, reason: 'cgroup v1 is not mounted' }]);
    expect(result.tests).toEqual([]);
    expect(result.problems).toEqual([]);
  });

  it('reads a one-test skip header as a plan followed by a skipped test', () => {
    const result = parseTap('TAP version 13\n1..1\nok 1 # skip linux-specific process.capabilities test\n');
    expect(result.counts).toEqual({ ok: 0, notOk: 0, skipped: 1, todo: 0 });
    expect(result.problems).toEqual([]);
  });

  it('keeps an error block that follows no test as an orphan diagnostic', () => {
    const output = `TAP version 13
  ---
  {
    "error": "Pre-start hooks MUST be called before the user-specified program command is executed\\nRefer to: https://github.com/opencontainers/runtime-spec/blob/v1.3.0/config.md#prestart",
    "stderr": "container init failed"
  }
  ...
1..0
`;
    const result = parseTap(output);
    expect(result.tests).toEqual([]);
    expect(result.orphanDiagnostics).toHaveLength(1);
    expect(result.orphanDiagnostics[0]?.['error']).toMatch(/^Pre-start hooks MUST be called/);
    expect(result.orphanDiagnostics[0]?.['stderr']).toBe('container init failed');
    expect(result.problems).toEqual([]);
  });

  it('does not attach a block that follows a plan to the test before it', () => {
    const result = parseTap('TAP version 13\nok 1 - first\n1..1\n  ---\n  {"error": "late"}\n  ...\n');
    expect(result.tests[0]?.yaml).toBeNull();
    expect(result.orphanDiagnostics).toEqual([{ error: 'late' }]);
  });

  it('treats back-to-back TAP streams separately, each with its own plan', () => {
    const output = 'TAP version 13\nok 1 - cpu shares\nok 2 - cpu quota\n1..2\nTAP version 13\nok 1 - empty cpu\n1..1\n';
    const result = parseTap(output);
    expect(result.counts.ok).toBe(3);
    expect(result.plans.map((plan) => plan.count)).toEqual([2, 1]);
    expect(result.problems).toEqual([]);
  });

  it('reports a stream that stopped before its plan', () => {
    const result = parseTap('TAP version 13\nok 1 - find pids cgroup\nok 2 - get pids cgroup data\n');
    expect(result.problems).toEqual(['no plan: the program stopped before finishing']);
  });

  it('reports a plan that does not match the tests run, and a second plan in one stream', () => {
    expect(parseTap('1..3\nok 1 - a\nok 2 - b\n').problems).toEqual(['planned 3 tests, ran 2']);
    expect(parseTap('ok 1 - a\n1..1\n1..1\n').problems).toEqual(['second plan "1..1" in one stream']);
  });

  it('attaches comment lines to the test they follow', () => {
    const result = parseTap('TAP version 13\nok 1 - find pids cgroup\nnot ok 2 - pids limit is set correctly\n# expect: 1000, actual: max\n1..2\n');
    expect(result.tests[1]?.comments).toEqual(['expect: 1000, actual: max']);
    expect(result.tests[0]?.comments).toEqual([]);
  });

  it('keeps comments before the first test apart', () => {
    expect(parseTap('TAP version 13\n# runtime: runc\nok 1 - a\n1..1\n').comments).toEqual(['runtime: runc']);
  });

  it('counts TODO tests apart and does not count a failing TODO as a failure', () => {
    const result = parseTap('not ok 1 # TODO seccomp notify\nok 2 # todo flaky on cgroup v1\n1..2\n');
    expect(result.counts).toEqual({ ok: 0, notOk: 0, skipped: 0, todo: 2 });
    expect(result.tests[0]?.directive).toEqual({ kind: 'todo', reason: 'seccomp notify' });
  });

  it('keeps a # that is not a directive in the description', () => {
    const result = parseTap('ok 1 - issue #42 is fixed\n1..1\n');
    expect(result.tests[0]?.description).toBe('issue #42 is fixed');
    expect(result.tests[0]?.directive).toBeNull();
  });

  it('accepts test lines without a number or a dash', () => {
    const result = parseTap('ok\nnot ok state is running\n1..2\n');
    expect(result.tests.map((test) => [test.ok, test.number, test.description])).toEqual([
      [true, null, ''],
      [false, null, 'state is running'],
    ]);
  });

  it('reads YAML (not JSON) diagnostic blocks: scalars, quoted strings and block scalars', () => {
    const output = `not ok 1 - create with '--pid-file' option works
  ---
  message: "pid file: no such file"
  severity: fail
  stderr: |
    time="2024-01-01T00:00:00Z" level=error msg="container_linux.go:380"
    exit status 1
  ...
1..1
`;
    const test = parseTap(output).tests[0];
    expect(test?.diagnostics).toEqual({
      message: 'pid file: no such file',
      severity: 'fail',
      stderr: 'time="2024-01-01T00:00:00Z" level=error msg="container_linux.go:380"\nexit status 1',
    });
    expect(test?.yaml).toContain('severity: fail');
  });

  it('stringifies non-string JSON diagnostic values', () => {
    const test = parseTap('ok 1 - args\n  ---\n  {\n    "actual": ["/runtimetest", "--path=/"],\n    "index": 0\n  }\n  ...\n1..1\n').tests[0];
    expect(test?.diagnostics).toEqual({ actual: '["/runtimetest","--path=/"]', index: '0' });
  });

  it('records a bail out and does not then ask for a plan', () => {
    const result = parseTap('TAP version 13\nok 1 - a\nBail out! runtime binary not found\n');
    expect(result.bailOut).toBe('runtime binary not found');
    expect(result.problems).toEqual([]);
  });

  it('accepts output without any TAP (a *_fail program whose runtime rightly refused)', () => {
    const result = parseTap('');
    expect(result.tests).toEqual([]);
    expect(result.plans).toEqual([]);
    expect(result.problems).toEqual([]);
  });

  it('asks for a plan once a stream has begun, even without tests', () => {
    expect(parseTap('TAP version 13\n').problems).toEqual(['no plan: the program stopped before finishing']);
  });

  it('handles CRLF line ends', () => {
    expect(parseTap('ok 1 - a\r\nnot ok 2 - b\r\n1..2\r\n').counts).toEqual({ ok: 1, notOk: 1, skipped: 0, todo: 0 });
  });
});
