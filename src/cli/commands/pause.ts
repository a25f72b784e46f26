import type { CommandModule } from 'yargs';
import type { CliContext } from '../cli-context.js';
import { globalOptions, type GlobalArgs } from '../global-flags.js';

interface PauseArgs extends GlobalArgs {
  id: string;
}

export function pauseCommand(context: CliContext): CommandModule<GlobalArgs, PauseArgs> {
  return {
    command: 'pause <id>',
    describe: 'pause suspends all processes inside the container',
    builder: (y) => y.positional('id', { type: 'string', demandOption: true }),
    handler: async (argv) => {
      await context.actions.pause(globalOptions(argv), argv.id);
    },
  };
}
