import { describe, expect, it } from 'vitest';
import { lastLine, runCommand } from './harness/exec.js';

describe('runCommand', () => {
  it('captures stdout, stderr and the exit code', async () => {
    const result = await runCommand('sh', ['-c', 'echo out; echo err >&2; exit 3']);
    expect(result).toMatchObject({ code: 3, signal: null, stdout: 'out\n', stderr: 'err\n', timedOut: false, spawnError: null });
  });

  it('passes cwd and env', async () => {
    const result = await runCommand('sh', ['-c', 'echo "$PWD $RUNTIME"'], { cwd: '/tmp', env: { PATH: process.env['PATH'], RUNTIME: '/usr/sbin/runc' } });
    expect(result.stdout).toBe('/tmp /usr/sbin/runc\n');
  });

  it('kills the whole process group on timeout, including children holding the pipes', async () => {
    const started = Date.now();
    const result = await runCommand('sh', ['-c', 'sleep 30 & sleep 30'], { timeoutMs: 200 });
    expect(result.timedOut).toBe(true);
    expect(result.signal).toBe('SIGTERM');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('reports a program that cannot be started instead of rejecting', async () => {
    const result = await runCommand('/nonexistent/program', []);
    expect(result.spawnError).toMatch(/ENOENT/);
    expect(result.code).toBeNull();
  });
});

describe('lastLine', () => {
  it('returns the last non-empty line, trimmed', () => {
    expect(lastLine('first\n  exit status 1  \n\n')).toBe('exit status 1');
    expect(lastLine('')).toBe('');
  });
});
