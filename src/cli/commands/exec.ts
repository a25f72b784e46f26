import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import type { ExecOptions } from '../../runtime/commands/exec.js';
import type { CliContext } from '../cli-context.js';
import { globalOptions, type GlobalArgs } from '../global-flags.js';
import { PARSER_CONFIGURATION } from '../parser-config.js';
import { parsePreserveFds } from './create.js';

interface ExecArgs extends GlobalArgs {
  id: string;
  command: string[];
  '--'?: string[];
  'console-socket': string | undefined;
  cwd: string | undefined;
  env: string[];
  tty: boolean | undefined;
  user: string | undefined;
  'additional-gids': string[] | undefined;
  process: string | undefined;
  detach: boolean;
  'pid-file': string | undefined;
  'process-label': string | undefined;
  apparmor: string | undefined;
  'no-new-privs': boolean | undefined;
  cap: string[];
  'preserve-fds': string;
}

export function execCommand(context: CliContext): CommandModule<GlobalArgs, ExecArgs> {
  return {
    command: 'exec <id> [command..]',
    describe: 'execute new process inside the container',
    builder: (y) =>
      y
        // The command arrives after a "--" (see exec-argv.ts), in argv['--'].
        // --env, --cap and --additional-gids add up when repeated; for the
        // other flags the last one wins (see last()).
        .parserConfiguration({ ...PARSER_CONFIGURATION, 'populate--': true, 'duplicate-arguments-array': true })
        .positional('id', { type: 'string', demandOption: true, describe: 'the container to run the process in' })
        .positional('command', { type: 'string', array: true, default: [], describe: 'the command and its arguments' })
        .option('console-socket', { type: 'string', describe: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal" })
        .option('cwd', { type: 'string', describe: 'current working directory in the container' })
        .option('env', { alias: 'e', type: 'string', array: true, nargs: 1, default: [], describe: 'set environment variables (KEY=VALUE, repeatable)' })
        .option('tty', { alias: 't', type: 'boolean', describe: 'allocate a pseudo-TTY' })
        .option('user', { alias: 'u', type: 'string', describe: 'UID (format: <uid>[:<gid>])' })
        .option('additional-gids', { alias: 'g', type: 'string', array: true, nargs: 1, describe: 'additional gids (repeatable)' })
        .option('process', { alias: 'p', type: 'string', describe: 'path to the process.json' })
        .option('detach', { alias: 'd', type: 'boolean', default: false, describe: 'detach from the container\'s process' })
        .option('pid-file', { type: 'string', describe: 'specify the file to write the process id to' })
        .option('process-label', { type: 'string', describe: 'set the asm process label for the process commonly used with selinux' })
        .option('apparmor', { type: 'string', describe: 'set the apparmor profile for the process' })
        .option('no-new-privs', { type: 'boolean', describe: 'set the no new privileges value for the process' })
        .option('cap', { alias: 'c', type: 'string', array: true, nargs: 1, default: [], describe: 'add a capability to the bounding set for the process (repeatable)' })
        .option('preserve-fds', { type: 'string', default: '0', describe: 'pass N additional file descriptors to the process (stdio + N in total)' }),
    handler: async (argv) => {
      context.exitCode = await context.actions.exec(globalOptions(argv), execOptions(argv));
    },
  };
}

/** A flag given more than once arrives as an array: as with runc, the last one counts. */
function last<T>(value: T | T[]): T {
  return Array.isArray(value) ? (value[value.length - 1] as T) : value;
}

function execOptions(raw: ExecArgs): ExecOptions {
  const argv = Object.fromEntries(
    Object.entries(raw).map(([key, value]) => [key, ['env', 'cap', 'additional-gids', 'command', '--', '_'].includes(key) ? value : last(value)]),
  ) as ExecArgs;
  const gids = argv['additional-gids']?.flatMap((g) => g.split(',')).map((g) => {
    if (!/^\d+$/.test(g)) throw new Error(`--additional-gids: "${g}" is not a numeric gid`);
    return Number(g);
  });
  const optional = <K extends string, V>(key: K, value: V | undefined) => (value === undefined ? {} : ({ [key]: value } as Record<K, V>));
  return {
    id: argv.id,
    args: [...argv.command, ...(argv['--'] ?? [])].map(String),
    env: argv.env.map(String),
    caps: argv.cap.map(String),
    detach: argv.detach,
    preserveFds: parsePreserveFds(argv['preserve-fds']),
    ...optional('processFile', argv.process === undefined ? undefined : resolve(argv.process)),
    ...optional('pidFile', argv['pid-file'] === undefined ? undefined : resolve(argv['pid-file'])),
    ...optional('consoleSocket', argv['console-socket'] === undefined ? undefined : resolve(argv['console-socket'])),
    ...optional('tty', argv.tty),
    ...optional('cwd', argv.cwd),
    ...optional('user', argv.user),
    ...optional('additionalGids', gids),
    ...optional('noNewPrivs', argv['no-new-privs']),
    ...optional('apparmor', argv.apparmor),
    ...optional('processLabel', argv['process-label']),
  };
}
