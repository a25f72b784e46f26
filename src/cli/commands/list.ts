import type { CommandModule } from 'yargs';
import type { ContainerSummary } from '../../runtime/commands/state.js';
import type { CliContext } from '../cli-context.js';
import { globalOptions, type GlobalArgs } from '../global-flags.js';

interface ListArgs extends GlobalArgs {
  format: 'table' | 'json';
  quiet: boolean;
}

export function listCommand(context: CliContext): CommandModule<GlobalArgs, ListArgs> {
  return {
    command: 'list',
    describe: 'lists containers started by tsrun with the given root',
    builder: (y) =>
      y
        .option('format', {
          alias: 'f',
          choices: ['table', 'json'] as const,
          default: 'table' as const,
          describe: 'select one of: table or json',
        })
        .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'display only container IDs' }),
    handler: async (argv) => {
      const containers = await context.actions.list(globalOptions(argv));
      if (argv.quiet) {
        context.write(containers.map((c) => `${c.id}\n`).join(''));
      } else if (argv.format === 'json') {
        context.write(`${JSON.stringify(containers)}\n`);
      } else {
        context.write(table(containers));
      }
    },
  };
}

const HEADER = ['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'];

/** runc's layout (Go tabwriter, min width 12, padding 3): every column but the last is padded. */
export function table(containers: readonly ContainerSummary[]): string {
  const rows = [HEADER, ...containers.map((c) => [c.id, String(c.pid), c.status, c.bundle, c.created, c.owner])];
  const widths = HEADER.map((_, column) => Math.max(12, ...rows.map((row) => (row[column] ?? '').length + 3)));
  return rows
    .map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join(''))
    .map((line) => `${line}\n`)
    .join('');
}
