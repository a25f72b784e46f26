import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Actions } from '../../../src/cli/actions.js';
import { runCli } from '../../../src/cli/cli.js';
import type { CliContext } from '../../../src/cli/cli-context.js';
import { configureLogging } from '../../../src/runtime/log.js';
import type { ContainerSummary } from '../../../src/runtime/commands/state.js';
import { temporaryDir } from '../runtime/fixtures.js';

interface Call {
  action: keyof Actions;
  args: unknown[];
}

const summary: ContainerSummary = {
  ociVersion: '1.3.0',
  id: 'c1',
  pid: 4321,
  status: 'running',
  bundle: '/bundles/c1',
  rootfs: '/bundles/c1/rootfs',
  created: '2026-01-02T03:04:05.678Z',
  owner: 'root',
};

/** Runs tsrun with fake actions, its log going to a JSON file. */
async function tsrun(args: string[], overrides: Partial<Actions> = {}) {
  const calls: Call[] = [];
  const record =
    (action: keyof Actions, result?: unknown) =>
    async (...callArgs: unknown[]) => {
      calls.push({ action, args: callArgs });
      return result;
    };
  const actions = {
    create: record('create'),
    start: record('start'),
    run: record('run', 0),
    state: record('state', summary),
    list: record('list', [summary]),
    kill: record('kill'),
    delete: record('delete'),
    exec: record('exec', 0),
    defaultSpec: record('defaultSpec', { ociVersion: '1.3.0' }),
    features: record('features', { ociVersionMin: '1.0.0' }),
    ...overrides,
  } as Actions;
  const log = join(temporaryDir(), 'tsrun.log');
  let stdout = '';
  let stderr = '';
  const context: CliContext = {
    actions,
    write: (text) => (stdout += text),
    writeError: (text) => (stderr += text),
    exitCode: 0,
  };
  const code = await runCli(['--log', log, '--log-format', 'json', ...args], context);
  const logged = existsSync(log)
    ? readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as { level: string; msg: string })
    : [];
  return { code, calls, stdout, stderr, logged, errors: logged.filter((entry) => entry.level === 'error').map((e) => e.msg) };
}

afterEach(() => configureLogging({ format: 'text', debug: false }));

const globals = { root: '/run/tsrun', debug: false, systemdCgroup: false };

describe('global flags', () => {
  it('default to runc’s, with /run/tsrun as root', async () => {
    const { calls } = await tsrun(['start', 'c1']);
    expect(calls).toEqual([{ action: 'start', args: [globals, 'c1'] }]);
  });

  it('map --root (made absolute), --debug and --systemd-cgroup', async () => {
    const { calls } = await tsrun(['--root', 'relative/root', '--debug', '--systemd-cgroup', 'start', 'c1']);
    expect(calls[0]?.args[0]).toEqual({ root: resolve('relative/root'), debug: true, systemdCgroup: true });
  });

  it('accept runc’s --criu and --rootless, saying so in the debug log', async () => {
    const { code, logged } = await tsrun(['--debug', '--criu', '/usr/sbin/criu', '--rootless', 'auto', 'start', 'c1']);
    expect(code).toBe(0);
    expect(logged.map((entry) => entry.msg)).toEqual([
      '--criu is ignored: tsrun does not checkpoint containers',
      '--rootless is ignored: tsrun detects rootless mode itself',
    ]);
  });

  it('reject an unknown --log-format, logging that in the text format', async () => {
    const log = join(temporaryDir(), 'tsrun.log');
    const result = await tsrun(['--log', log, '--log-format', 'xml', 'start', 'c1']);
    expect(result.code).toBe(1);
    expect(result.calls).toEqual([]);
    expect(readFileSync(log, 'utf8')).toMatch(/^time="[^"]+" level=error msg="Invalid values:.*log-format, Given: \\"xml\\"/);
  });
});

describe('create and run', () => {
  it('map every create flag, making paths absolute', async () => {
    const { code, calls } = await tsrun([
      'create',
      '--bundle',
      'b',
      '--pid-file',
      'p.pid',
      '--console-socket',
      '/tmp/console.sock',
      '--preserve-fds',
      '2',
      '--no-pivot',
      '--no-new-keyring',
      'c1',
    ]);
    expect(code).toBe(0);
    expect(calls).toEqual([
      {
        action: 'create',
        args: [
          globals,
          {
            id: 'c1',
            bundle: resolve('b'),
            pidFile: resolve('p.pid'),
            consoleSocket: '/tmp/console.sock',
            preserveFds: 2,
            noPivot: true,
            noNewKeyring: true,
          },
        ],
      },
    ]);
  });

  it('default the bundle to the current directory and leave optional paths out', async () => {
    const { calls } = await tsrun(['create', '-b', '.', '123']);
    expect(calls[0]?.args[1]).toEqual({ id: '123', bundle: process.cwd(), preserveFds: 0, noPivot: false, noNewKeyring: false });
  });

  it('reject a negative or non-numeric --preserve-fds', async () => {
    for (const value of ['-1', 'two', '1.5']) {
      const result = await tsrun(['create', '--preserve-fds', value, 'c1']);
      expect(result.code).toBe(1);
      expect(result.calls).toEqual([]);
      expect(result.errors.join('\n')).toContain('--preserve-fds must be a non-negative integer');
    }
  });

  it('run maps --detach and --keep and exits with the container’s code', async () => {
    const { code, calls } = await tsrun(['run', '-d', '--keep', '-b', '/b', 'c1'], { run: async () => 42 });
    expect(code).toBe(42);
    expect(calls).toEqual([]);
    const mapped = await tsrun(['run', '-d', '--keep', '--no-subreaper', '-b', '/b', 'c1']);
    expect(mapped.calls[0]?.args[1]).toMatchObject({ id: 'c1', bundle: '/b', detach: true, keep: true });
  });
});

describe('state, kill, delete, start', () => {
  it('state prints the summary as 2-space indented JSON', async () => {
    const { stdout, calls } = await tsrun(['state', 'c1']);
    expect(calls).toEqual([{ action: 'state', args: [globals, 'c1'] }]);
    expect(stdout).toBe(`${JSON.stringify(summary, null, 2)}\n`);
  });

  it('kill defaults to SIGTERM and parses the signal argument', async () => {
    expect((await tsrun(['kill', 'c1'])).calls[0]?.args).toEqual([globals, 'c1', 15, false]);
    expect((await tsrun(['kill', '--all', 'c1', 'KILL'])).calls[0]?.args).toEqual([globals, 'c1', 9, true]);
    expect((await tsrun(['kill', '-a', 'c1', '9'])).calls[0]?.args).toEqual([globals, 'c1', 9, true]);
  });

  it('kill rejects an unknown signal before touching the container', async () => {
    const result = await tsrun(['kill', 'c1', 'FOO']);
    expect(result.code).toBe(1);
    expect(result.calls).toEqual([]);
    expect(result.errors[0]).toMatch(/^unknown signal "FOO"/);
  });

  it('delete maps --force / -f', async () => {
    expect((await tsrun(['delete', 'c1'])).calls[0]?.args).toEqual([globals, 'c1', false]);
    expect((await tsrun(['delete', '-f', 'c1'])).calls[0]?.args).toEqual([globals, 'c1', true]);
  });
});

describe('list', () => {
  it('prints runc’s table', async () => {
    const { stdout } = await tsrun(['list']);
    expect(stdout).toBe(
      'ID          PID         STATUS      BUNDLE        CREATED                    OWNER\n' +
        'c1          4321        running     /bundles/c1   2026-01-02T03:04:05.678Z   root\n',
    );
  });

  it('prints only the header when there are no containers', async () => {
    const { stdout } = await tsrun(['list'], { list: async () => [] });
    expect(stdout).toBe('ID          PID         STATUS      BUNDLE      CREATED     OWNER\n');
  });

  it('prints JSON with -f json and ids with -q', async () => {
    expect((await tsrun(['list', '-f', 'json'])).stdout).toBe(`${JSON.stringify([summary])}\n`);
    expect((await tsrun(['list', '--quiet'])).stdout).toBe('c1\n');
  });
});

describe('spec and features', () => {
  it('spec writes a tab-indented config.json into the bundle', async () => {
    const bundle = temporaryDir();
    const { code, calls } = await tsrun(['spec', '--rootless', '-b', bundle]);
    expect(code).toBe(0);
    expect(calls).toEqual([{ action: 'defaultSpec', args: [true] }]);
    expect(readFileSync(join(bundle, 'config.json'), 'utf8')).toBe('{\n\t"ociVersion": "1.3.0"\n}');
  });

  it('spec refuses to overwrite an existing config.json', async () => {
    const bundle = temporaryDir();
    writeFileSync(join(bundle, 'config.json'), 'mine');
    const { code, errors } = await tsrun(['spec', '--bundle', bundle]);
    expect(code).toBe(1);
    expect(errors).toEqual([`File ${join(bundle, 'config.json')} exists. Remove it first`]);
    expect(readFileSync(join(bundle, 'config.json'), 'utf8')).toBe('mine');
  });

  it('features prints JSON', async () => {
    expect((await tsrun(['features'])).stdout).toBe('{\n    "ociVersionMin": "1.0.0"\n}\n');
  });
});

describe('errors', () => {
  it('a failing command exits 1 and logs the message as an error', async () => {
    const { code, errors } = await tsrun(['state', 'c1'], {
      state: async () => {
        throw new Error('container c1 does not exist');
      },
    });
    expect(code).toBe(1);
    expect(errors).toEqual(['container c1 does not exist']);
  });

  it.each([
    [['state'], /Not enough non-option arguments/],
    [['state', 'a', 'b'], /Unknown argument: b/],
    [['list', '--bogus'], /Unknown argument: bogus/],
    [['--bogus', 'list'], /Unknown argument: bogus/],
    [['frobnicate'], /Unknown argument: frobnicate/],
    [['kill', 'c1', 'TERM', 'extra'], /Unknown argument: extra/],
    [['list', '--format', 'yaml'], /Invalid values/],
    [['pause'], /Not enough non-option arguments/],
  ])('usage error %j exits 1 with a message and usage help', async (args, message) => {
    const { code, calls, errors, stderr } = await tsrun(args);
    expect(code).toBe(1);
    expect(calls).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(message);
    expect(stderr).toContain('Options:');
  });

  it('--no-pivot is a flag of its own, not the negation of --pivot', async () => {
    const { calls } = await tsrun(['create', '--no-pivot', 'c1']);
    expect(calls[0]?.args[1]).toMatchObject({ noPivot: true });
  });

  it('no command shows help and succeeds, like runc', async () => {
    const { code, stdout } = await tsrun([]);
    expect(code).toBe(0);
    expect(stdout).toContain('Commands:');
  });
});

describe('exec', () => {
  it("passes the command's own flags through untouched (-c is sh's, not --cap)", async () => {
    const { code, calls } = await tsrun(['exec', '-t', '--cap', 'CAP_KILL', 'c1', 'sh', '-c', 'echo hi', '--user', 'x']);
    expect(code).toBe(0);
    expect(calls).toEqual([
      {
        action: 'exec',
        args: [globals, { id: 'c1', args: ['sh', '-c', 'echo hi', '--user', 'x'], env: [], caps: ['CAP_KILL'], detach: false, preserveFds: 0, tty: true }],
      },
    ]);
  });

  it('adds up repeated --env, --cap and --additional-gids; for other flags the last one wins', async () => {
    const { calls } = await tsrun([
      'exec', '-e', 'A=1', '--env', 'B=2', '-c', 'CAP_KILL', '--cap', 'CAP_CHOWN', '-g', '10,11', '--additional-gids', '12',
      '--cwd', '/a', '--cwd', '/b', '-u', '1:2', '--no-new-privs', '-d', '--pid-file', 'p.pid', '--preserve-fds', '2', 'c1', 'true',
    ]);
    expect(calls[0]?.args[1]).toEqual({
      id: 'c1',
      args: ['true'],
      env: ['A=1', 'B=2'],
      caps: ['CAP_KILL', 'CAP_CHOWN'],
      additionalGids: [10, 11, 12],
      cwd: '/b',
      user: '1:2',
      noNewPrivs: true,
      detach: true,
      pidFile: resolve('p.pid'),
      preserveFds: 2,
    });
  });

  it('returns the exit code of the process', async () => {
    const { code } = await tsrun(['exec', 'c1', 'false'], { exec: async () => 3 });
    expect(code).toBe(3);
  });

  it('refuses a malformed --preserve-fds or gid', async () => {
    expect((await tsrun(['exec', '--preserve-fds', 'x', 'c1', 'true'])).errors).toEqual(['--preserve-fds must be a non-negative integer, not "x"']);
    expect((await tsrun(['exec', '-g', 'wheel', 'c1', 'true'])).errors).toEqual(['--additional-gids: "wheel" is not a numeric gid']);
  });
});
