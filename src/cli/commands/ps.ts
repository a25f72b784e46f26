import type { CommandModule } from 'yargs';
import type { CliContext } from '../cli-context.js';
import { globalOptions, type GlobalArgs } from '../global-flags.js';
import { PARSER_CONFIGURATION } from '../parser-config.js';

interface PsArgs extends GlobalArgs {
  id: string;
  'ps-options': string[];
  format: 'table' | 'json';
}

export function psCommand(context: CliContext): CommandModule<GlobalArgs, PsArgs> {
  return {
    command: 'ps <id> [ps-options..]',
    describe: 'ps displays the processes running inside a container',
    builder: (y) =>
      y
        // `tsrun ps c1 -ef`: options tsrun does not know are ps(1)'s, as with
        // runc. Collecting them needs duplicate arguments kept (else only the
        // last would be), so --format takes its last value itself.
        .parserConfiguration({ ...PARSER_CONFIGURATION, 'unknown-options-as-args': true, 'duplicate-arguments-array': true })
        .positional('id', { type: 'string', demandOption: true })
        .positional('ps-options', { type: 'string', array: true, default: [], describe: 'options for ps(1) (default: -ef)' })
        .option('format', {
          alias: 'f',
          choices: ['table', 'json'] as const,
          default: 'table' as const,
          coerce: (value: unknown) => (Array.isArray(value) ? value[value.length - 1] : value) as 'table' | 'json',
          describe: 'select one of: table or json',
        }),
    handler: async (argv) => {
      context.write(await context.actions.ps(globalOptions(argv), argv.id, argv.format, argv['ps-options']));
    },
  };
}
