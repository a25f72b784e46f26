import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Actions } from '../../../src/cli/actions.js';
import { runCli } from '../../../src/cli/cli.js';
import type { CliContext } from '../../../src/cli/cli-context.js';
import { configureLogging } from '../../../src/runtime/log.js';
import { temporaryDir } from '../runtime/fixtures.js';

interface Call {
  action: keyof Actions;
  args: unknown[];
}

/** tsrun with fake actions for the cgroup commands (the others are in cli.test.ts). */
async function tsrun(args: string[], results: Partial<Record<keyof Actions, unknown>> = {}) {
  const calls: Call[] = [];
  const record =
    (action: keyof Actions) =>
    async (...callArgs: unknown[]) => {
      calls.push({ action, args: callArgs });
      if (action === 'events') (callArgs[3] as (line: string) => void)('{"type":"stats","id":"c1"}\n');
      return results[action];
    };
  const actions = Object.fromEntries(
    (['pause', 'resume', 'update', 'events', 'ps'] as const).map((name) => [name, record(name)]),
  ) as unknown as Actions;
  const log = join(temporaryDir(), 'tsrun.log');
  let stdout = '';
  const context: CliContext = { actions, write: (text) => (stdout += text), writeError: () => {}, exitCode: 0 };
  const code = await runCli(['--log', log, '--log-format', 'json', ...args], context);
  return { code, calls, stdout };
}

afterEach(() => configureLogging({ format: 'text', debug: false }));

const globals = { root: '/run/tsrun', debug: false, systemdCgroup: false };

describe('pause, resume', () => {
  it('pass the id', async () => {
    expect((await tsrun(['pause', 'c1'])).calls).toEqual([{ action: 'pause', args: [globals, 'c1'] }]);
    expect((await tsrun(['resume', 'c1'])).calls).toEqual([{ action: 'resume', args: [globals, 'c1'] }]);
  });
});

describe('update', () => {
  it('turns runc\'s flags into linux.resources, --cpu-shares being an alias of --cpu-share', async () => {
    const { code, calls } = await tsrun(['update', '--memory', '512m', '--memory-swap', '1g', '--cpu-shares', '512', '--pids-limit', '-1', 'c1']);
    expect(code).toBe(0);
    expect(calls).toEqual([
      { action: 'update', args: [globals, 'c1', { memory: { limit: 536870912, swap: 1073741824 }, cpu: { shares: 512 }, pids: { limit: -1 } }] },
    ]);
  });

  it('reads --resources from a file, ignoring the other flags as runc does', async () => {
    const file = join(temporaryDir(), 'r.json');
    writeFileSync(file, JSON.stringify({ memory: { limit: 1000, checkBeforeUpdate: true }, unified: { 'memory.high': '900' } }));
    const { calls } = await tsrun(['update', '-r', file, '--memory', '5', 'c1']);
    expect(calls[0]?.args[2]).toEqual({ memory: { limit: 1000, checkBeforeUpdate: true }, unified: { 'memory.high': '900' } });
  });

  it('refuses a --resources file that is not a JSON object', async () => {
    const file = join(temporaryDir(), 'r.json');
    writeFileSync(file, '[1]');
    const { code, calls } = await tsrun(['update', '-r', file, 'c1']);
    expect(code).toBe(1);
    expect(calls).toEqual([]);
  });

  it('refuses --kernel-memory', async () => {
    const { code, calls } = await tsrun(['update', '--kernel-memory', '1g', 'c1']);
    expect(code).toBe(1);
    expect(calls).toEqual([]);
  });
});

describe('events', () => {
  it('passes --stats and the interval, and prints what the runtime emits', async () => {
    const { calls, stdout } = await tsrun(['events', '--stats', 'c1']);
    expect(calls[0]?.args.slice(0, 3)).toEqual([globals, 'c1', { stats: true, intervalMs: 5000 }]);
    expect(stdout).toBe('{"type":"stats","id":"c1"}\n');
    expect((await tsrun(['events', '--interval', '250ms', 'c1'])).calls[0]?.args[2]).toEqual({ stats: false, intervalMs: 250 });
  });

  it('refuses an interval that is not positive, as runc does', async () => {
    expect((await tsrun(['events', '--interval', '0s', 'c1'])).code).toBe(1);
    expect((await tsrun(['events', '--interval', 'soon', 'c1'])).code).toBe(1);
  });
});

describe('ps', () => {
  it('prints what the runtime returns; --format json, and ps(1) options after the id', async () => {
    const json = await tsrun(['ps', '--format', 'json', 'c1'], { ps: '[1,2]\n' });
    expect(json.calls).toEqual([{ action: 'ps', args: [globals, 'c1', 'json', []] }]);
    expect(json.stdout).toBe('[1,2]\n');
    expect((await tsrun(['ps', 'c1'], { ps: '' })).calls[0]?.args).toEqual([globals, 'c1', 'table', []]);
    expect((await tsrun(['ps', 'c1', '-e', '-o', 'pid,comm'], { ps: '' })).calls[0]?.args).toEqual([globals, 'c1', 'table', ['-e', '-o', 'pid,comm']]);
    expect((await tsrun(['ps', 'c1', 'aux'], { ps: '' })).calls[0]?.args).toEqual([globals, 'c1', 'table', ['aux']]);
  });
});
