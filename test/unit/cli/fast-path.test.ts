import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Actions } from '../../../src/cli/actions.js';
import { runCli } from '../../../src/cli/cli.js';
import { defaultRoot } from '../../../src/cli/default-root.js';
import { parseFastCommand, type FastCall } from '../../../src/cli/fast-path.js';
import { logSettings } from '../../../src/cli/global-flags.js';
import type { ExecOptions } from '../../../src/runtime/commands/exec.js';
import type { CreateOptions, GlobalOptions, RunOptions } from '../../../src/runtime/options.js';

/** What the yargs path makes of a command line: the call it would make, or none. */
async function throughYargs(args: string[]): Promise<{ global: GlobalOptions; call: FastCall } | undefined> {
  let made: { global: GlobalOptions; call: FastCall } | undefined;
  const actions = {
    state: async (global: GlobalOptions, id: string) => {
      made = { global, call: { command: 'state', id } };
      return {};
    },
    start: async (global: GlobalOptions, id: string) => {
      made = { global, call: { command: 'start', id } };
    },
    kill: async (global: GlobalOptions, id: string, signal: number, all: boolean) => {
      // The fast path never takes --all: a call with it cannot be one of its own.
      made = all ? undefined : { global, call: { command: 'kill', id, signal } };
    },
    delete: async (global: GlobalOptions, id: string, force: boolean) => {
      made = { global, call: { command: 'delete', id, force } };
    },
    create: async (global: GlobalOptions, options: CreateOptions) => {
      made = { global, call: { command: 'create', options } };
    },
    run: async (global: GlobalOptions, options: RunOptions) => {
      made = { global, call: { command: 'run', options } };
      return 0;
    },
    exec: async (global: GlobalOptions, options: ExecOptions) => {
      made = { global, call: { command: 'exec', options } };
      return 0;
    },
  };
  const context = { actions: actions as unknown as Actions, write: () => {}, writeError: () => {}, exitCode: 0 };
  const code = await runCli(args, context);
  return code === 0 ? made : undefined;
}

const TAKEN: string[][] = [
  ['state', 'c1'],
  ['--root', '/run/x', 'state', 'c1'],
  ['--root=/run/x', '--debug', 'state', '123'],
  ['--log', '/tmp/l.json', '--log-format', 'json', 'state', 'c1'],
  ['--log-format=text', '--systemd-cgroup', '--root', 'relative/dir', 'state', 'a.b_c+d'],
  ['--root', '', 'state', 'c1'],
  ['start', 'c1'],
  ['--root', '/run/x', '--log', '/tmp/l.json', '--log-format', 'json', 'start', 'c1'],
  ['kill', 'c1'],
  ['kill', 'c1', 'KILL'],
  ['kill', 'c1', '9'],
  ['kill', 'c1', 'sigterm'],
  ['kill', 'c1', 'SIGRTMIN+3'],
  ['kill', 'c1', '0'],
  ['--root=/run/x', 'kill', 'c1', 'TERM'],
  ['delete', 'c1'],
  ['delete', '--force', 'c1'],
  ['delete', '-f', 'c1'],
  ['--systemd-cgroup', '--root', '/run/x', 'delete', '--force', 'c1'],
  ['create', 'c1'],
  ['create', '--bundle', '/b', 'c1'],
  ['create', '-b', 'rel/b', '--pid-file', 'p.pid', 'c1'],
  ['--root', '/run/x', '--log', '/tmp/l.json', '--log-format', 'json', 'create', '--bundle', '/b', '--pid-file', '/p', '--console-socket', '/s.sock', 'c1'],
  ['create', '--bundle=/b', '--pid-file=/p', '--preserve-fds', '2', '--no-pivot', '--no-new-keyring', 'c1'],
  ['create', '--preserve-fds=0', 'c1'],
  ['run', 'c1'],
  ['run', '-d', '--bundle', '/b', 'c1'],
  ['run', '--detach', '--keep', '--pid-file', '/p', '--no-new-keyring', 'c1'],
  ['--systemd-cgroup', 'run', '--bundle', '/b', '--preserve-fds', '1', 'c1'],
  ['exec', '--process', '/p.json', 'c1'],
  ['exec', '--detach', '--process', '/p.json', '--pid-file', 'x.pid', 'c1'],
  ['--root', '/run/x', '--log', '/l', '--log-format', 'json', 'exec', '-d', '-p', 'rel/p.json', '--console-socket', '/s', '--preserve-fds', '1', 'c1'],
  ['exec', '--pid-file=/x', '--process=/p.json', 'c1'],
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
  ['start'],
  ['start', 'c1', 'c2'],
  ['start', '--help'],
  ['kill'],
  ['kill', '--all', 'c1', 'KILL'],
  ['kill', '-a', 'c1'],
  ['kill', 'c1', 'KILL', '--all'],
  ['kill', 'c1', 'NOSUCH'],
  ['kill', 'c1', '65'],
  ['kill', 'c1', '-9'],
  ['kill', 'c1', 'KILL', 'extra'],
  ['delete'],
  ['delete', '--force'],
  ['delete', 'c1', '--force'],
  ['delete', '--force=true', 'c1'],
  ['delete', '-f', '-f', 'c1'],
  ['delete', 'c1', 'c2'],
  ['create'],
  ['create', 'c1', '--bundle', '/b'],
  ['create', '--bundle', '/a', '--bundle', '/b', 'c1'],
  ['create', '-b', '/a', '--bundle', '/b', 'c1'],
  ['create', '--bundle', 'c1'],
  ['create', '--bundle', '--pid-file', 'c1'],
  ['create', '--preserve-fds', 'x', 'c1'],
  ['create', '--preserve-fds', '-1', 'c1'],
  ['create', '--no-pivot=true', 'c1'],
  ['create', '--detach', 'c1'],
  ['create', '-d', 'c1'],
  ['create', '--help'],
  ['create', 'c1', 'c2'],
  ['create', '-b=/b', 'c1'],
  ['run', '--no-subreaper', 'c1'],
  ['run', '-d', '-d', 'c1'],
  ['run', '-dt', 'c1'],
  ['run', 'c1', '-d'],
  ['exec', 'c1', 'true'],
  ['exec', 'c1'],
  ['exec', '--detach', 'c1'],
  ['exec', '--process', '/p.json', 'c1', 'true'],
  ['exec', '--process', '/p.json', '--', 'c1'],
  ['exec', '-t', '--process', '/p.json', 'c1'],
  ['exec', '--process', '/a', '-p', '/b', 'c1'],
  ['exec', '--process', '/p.json', '--cwd', '/', 'c1'],
];

describe('the fast path: state, start, kill, delete, create, run and exec without yargs', () => {
  it.each(TAKEN)('reads %j as yargs does: the same call, root, flags and log settings', async (...args) => {
    const fast = parseFastCommand(args);
    expect(fast).toBeDefined();
    expect(await throughYargs(args)).toEqual({ global: fast?.global, call: fast?.call });
    expect(fast?.log).toEqual(logSettings(args));
  });

  it.each(LEFT_TO_YARGS)('leaves %j to yargs', (...args) => {
    expect(parseFastCommand(args)).toBeUndefined();
  });

  it('takes the default root as yargs does', () => {
    expect(parseFastCommand(['state', 'c1'])?.global.root).toBe(resolve(defaultRoot()));
  });
});
