import type { CommandModule } from 'yargs';
import type { CliContext } from '../cli-context.js';
import { globalOptions, type GlobalArgs } from '../global-flags.js';

interface ResumeArgs extends GlobalArgs {
  id: string;
}

export function resumeCommand(context: CliContext): CommandModule<GlobalArgs, ResumeArgs> {
  return {
    command: 'resume <id>',
    describe: 'resumes all processes that have been previously paused',
    builder: (y) => y.positional('id', { type: 'string', demandOption: true }),
    handler: async (argv) => {
      await context.actions.resume(globalOptions(argv), argv.id);
    },
  };
}
