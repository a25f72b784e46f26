import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import type { CreateOptions } from '../../runtime/options.js';
import type { CliContext } from '../cli-context.js';
import { globalOptions, type GlobalArgs } from '../global-flags.js';

export interface CreateArgs extends GlobalArgs {
  id: string;
  bundle: string | undefined;
  'pid-file': string | undefined;
  'console-socket': string | undefined;
  'preserve-fds': number;
  'no-pivot': boolean;
  'no-new-keyring': boolean;
}

/** The flags `create` and `run` share. */
export function createFlags(y: Argv<GlobalArgs>): Argv<CreateArgs> {
  return y
    .positional('id', { type: 'string', demandOption: true, describe: 'your name for the instance of the container' })
    .option('bundle', {
      alias: 'b',
      type: 'string',
      describe: 'path to the root of the bundle directory, defaults to the current directory',
    })
    .option('console-socket', {
      type: 'string',
      describe: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal",
    })
    .option('pid-file', { type: 'string', describe: 'specify the file to write the process id to' })
    .option('no-pivot', {
      type: 'boolean',
      default: false,
      describe: 'do not use pivot root to jail process inside rootfs (for a rootfs on a ramdisk)',
    })
    .option('no-new-keyring', {
      type: 'boolean',
      default: false,
      describe: "do not create a new session keyring for the container (it inherits the caller's session key)",
    })
    .option('preserve-fds', {
      type: 'string',
      default: 0,
      describe: 'pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)',
      coerce: parsePreserveFds,
    });
}

/** --preserve-fds, for create, run and exec. */
export function parsePreserveFds(value: string | number): number {
  if (!/^\d+$/.test(String(value))) throw new Error(`--preserve-fds must be a non-negative integer, not ${JSON.stringify(value)}`);
  return Number(value);
}

/** Paths are made absolute here, against the directory tsrun was started in. */
export function createOptions(argv: CreateArgs): CreateOptions {
  const pidFile = argv['pid-file'];
  const consoleSocket = argv['console-socket'];
  return {
    id: argv.id,
    bundle: resolve(argv.bundle ?? '.'),
    ...(pidFile === undefined ? {} : { pidFile: resolve(pidFile) }),
    ...(consoleSocket === undefined ? {} : { consoleSocket: resolve(consoleSocket) }),
    preserveFds: argv['preserve-fds'],
    noPivot: argv['no-pivot'],
    noNewKeyring: argv['no-new-keyring'],
  };
}

export function createCommand(context: CliContext): CommandModule<GlobalArgs, CreateArgs> {
  return {
    command: 'create <id>',
    describe: 'create a container',
    builder: createFlags,
    handler: async (argv) => {
      await context.actions.create(globalOptions(argv), createOptions(argv));
    },
  };
}
