import type { CommandModule } from 'yargs';
import type { CliContext } from '../cli-context.js';
import type { GlobalArgs } from '../global-flags.js';

export function featuresCommand(context: CliContext): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: 'features',
    describe: 'show the enabled features',
    handler: async () => {
      // runc indents this one with four spaces.
      context.write(`${JSON.stringify(await context.actions.features(), null, 4)}\n`);
    },
  };
}
