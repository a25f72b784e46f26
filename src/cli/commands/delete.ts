import type { CommandModule } from 'yargs';
import type { CliContext } from '../cli-context.js';
import { globalOptions, type GlobalArgs } from '../global-flags.js';

interface DeleteArgs extends GlobalArgs {
  id: string;
  force: boolean;
}

export function deleteCommand(context: CliContext): CommandModule<GlobalArgs, DeleteArgs> {
  return {
    command: 'delete <id>',
    describe: 'delete any resources held by the container',
    builder: (y) =>
      y.positional('id', { type: 'string', demandOption: true }).option('force', {
        alias: 'f',
        type: 'boolean',
        default: false,
        describe: 'forcibly deletes the container if it is still running (uses SIGKILL)',
      }),
    handler: async (argv) => {
      await context.actions.delete(globalOptions(argv), argv.id, argv.force);
    },
  };
}
