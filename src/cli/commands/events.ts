import type { CommandModule } from 'yargs';
import type { CliContext } from '../cli-context.js';
import { globalOptions, type GlobalArgs } from '../global-flags.js';
import { parseDuration } from '../units.js';

interface EventsArgs extends GlobalArgs {
  id: string;
  interval: string;
  stats: boolean;
}

export function eventsCommand(context: CliContext): CommandModule<GlobalArgs, EventsArgs> {
  return {
    command: 'events <id>',
    describe: 'display container events such as OOM notifications, cpu, memory, and IO usage statistics',
    builder: (y) =>
      y
        .positional('id', { type: 'string', demandOption: true })
        .option('interval', { type: 'string', default: '5s', describe: 'set the stats collection interval' })
        .option('stats', { type: 'boolean', default: false, describe: "display the container's stats then exit" }),
    handler: async (argv) => {
      const intervalMs = parseDuration(argv.interval, '--interval');
      if (intervalMs <= 0) throw new Error('duration interval must be greater than 0');
      await context.actions.events(globalOptions(argv), argv.id, { stats: argv.stats, intervalMs }, (line) => context.write(line));
    },
  };
}
