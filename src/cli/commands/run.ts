import type { CommandModule } from 'yargs';
import { logger } from '../../runtime/log.js';
import type { CliContext } from '../cli-context.js';
import { globalOptions, type GlobalArgs } from '../global-flags.js';
import { createFlags, createOptions, type CreateArgs } from './create.js';

interface RunArgs extends CreateArgs {
  detach: boolean;
  keep: boolean;
  'no-subreaper': boolean;
}

export function runCommand(context: CliContext): CommandModule<GlobalArgs, RunArgs> {
  return {
    command: 'run <id>',
    describe: 'create and run a container',
    builder: (y) =>
      createFlags(y)
        .option('detach', { alias: 'd', type: 'boolean', default: false, describe: "detach from the container's process" })
        .option('keep', { type: 'boolean', default: false, describe: 'do not delete the container after it exits' })
        // runc's flag; tsrun never makes itself a subreaper, so there is nothing to disable.
        .option('no-subreaper', { type: 'boolean', default: false, hidden: true }),
    handler: async (argv) => {
      if (argv['no-subreaper']) logger.debug('--no-subreaper has no effect: tsrun is never a subreaper');
      context.exitCode = await context.actions.run(globalOptions(argv), {
        ...createOptions(argv),
        detach: argv.detach,
        keep: argv.keep,
      });
    },
  };
}
