import type { CommandModule } from 'yargs';
import { parseSignal } from '../../runtime/signals.js';
import type { CliContext } from '../cli-context.js';
import { globalOptions, type GlobalArgs } from '../global-flags.js';

interface KillArgs extends GlobalArgs {
  id: string;
  signal: string | undefined;
  all: boolean;
}

export function killCommand(context: CliContext): CommandModule<GlobalArgs, KillArgs> {
  return {
    command: 'kill <id> [signal]',
    describe: "send a signal (default: SIGTERM) to the container's init process",
    builder: (y) =>
      y
        .positional('id', { type: 'string', demandOption: true })
        .positional('signal', { type: 'string', describe: 'a name (KILL, SIGKILL), a number, or SIGRTMIN+n' })
        .option('all', {
          alias: 'a',
          type: 'boolean',
          default: false,
          describe: 'send the specified signal to all processes inside the container',
        }),
    handler: async (argv) => {
      await context.actions.kill(globalOptions(argv), argv.id, parseSignal(argv.signal), argv.all);
    },
  };
}
