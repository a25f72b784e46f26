import type { CommandModule } from 'yargs';
import type { CliContext } from '../cli-context.js';
import { globalOptions, type GlobalArgs } from '../global-flags.js';

interface StateArgs extends GlobalArgs {
  id: string;
}

export function stateCommand(context: CliContext): CommandModule<GlobalArgs, StateArgs> {
  return {
    command: 'state <id>',
    describe: 'output the state of a container',
    builder: (y) => y.positional('id', { type: 'string', demandOption: true }),
    handler: async (argv) => {
      const summary = await context.actions.state(globalOptions(argv), argv.id);
      context.write(`${JSON.stringify(summary, null, 2)}\n`);
    },
  };
}
