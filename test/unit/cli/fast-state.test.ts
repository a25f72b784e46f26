import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Actions } from '../../../src/cli/actions.js';
import { runCli } from '../../../src/cli/cli.js';
import { defaultRoot } from '../../../src/cli/default-root.js';
import { parseFastState } from '../../../src/cli/fast-state.js';
import { logSettings } from '../../../src/cli/global-flags.js';
import type { GlobalOptions } from '../../../src/runtime/options.js';

/** What the yargs path makes of a command line: the state call it would make, or none. */
async function throughYargs(args: string[]): Promise<{ global: GlobalOptions; id: string } | undefined> {
  let call: { global: GlobalOptions; id: string } | undefined;
  const state = async (global: GlobalOptions, id: string) => {
    call = { global, id };
    return {};
  };
  const context = { actions: { state } as unknown as Actions, write: () => {}, writeError: () => {}, exitCode: 0 };
  const code = await runCli(args, context);
  return code === 0 ? call : undefined;
}

const TAKEN: string[][] = [
  ['state', 'c1'],
  ['--root', '/run/x', 'state', 'c1'],
  ['--root=/run/x', '--debug', 'state', '123'],
  ['--log', '/tmp/l.json', '--log-format', 'json', 'state', 'c1'],
  ['--log-format=text', '--systemd-cgroup', '--root', 'relative/dir', 'state', 'a.b_c+d'],
  ['--root', '', 'state', 'c1'],
];

const LEFT_TO_YARGS: string[][] = [
  ['state'],
  ['state', 'c1', 'extra'],
  ['state', '--help'],
  ['--help', 'state', 'c1'],
  ['state', '-h'],
  ['state', 'c1', '--root', '/x'],
  ['--root', '/a', '--root', '/b', 'state', 'c1'],
  ['--debug=false', 'state', 'c1'],
  ['--log-format', 'yaml', 'state', 'c1'],
  ['--root', 'state', 'c1'],
  ['--bogus', 'state', 'c1'],
  ['-v'],
  ['--', 'state', 'c1'],
  ['list'],
  ['state', '--', 'c1'],
];

describe('state without yargs', () => {
  it.each(TAKEN)('reads %j as yargs does: the same root, flags, id and log settings', async (...args) => {
    const fast = parseFastState(args);
    expect(fast).toBeDefined();
    expect(await throughYargs(args)).toEqual({ global: fast?.global, id: fast?.id });
    expect(fast?.log).toEqual(logSettings(args));
  });

  it.each(LEFT_TO_YARGS)('leaves %j to yargs', (...args) => {
    expect(parseFastState(args)).toBeUndefined();
  });

  it('takes the default root as yargs does', () => {
    expect(parseFastState(['state', 'c1'])?.global.root).toBe(resolve(defaultRoot()));
  });
});
