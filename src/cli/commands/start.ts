import type { CommandModule } from 'yargs';
import type { CliContext } from '../cli-context.js';
import { globalOptions, type GlobalArgs } from '../global-flags.js';

interface StartArgs extends GlobalArgs {
  id: string;
}

export function startCommand(context: CliContext): CommandModule<GlobalArgs, StartArgs> {
  return {
    command: 'start <id>',
    describe: 'executes the user defined process in a created container',
    builder: (y) => y.positional('id', { type: 'string', demandOption: true }),
    handler: async (argv) => {
      await context.actions.start(globalOptions(argv), argv.id);
    },
  };
}
