import yargs, { type Argv } from 'yargs';
import type { CliContext } from './cli-context.js';
import { commands } from './commands/index.js';
import { separateExecCommand } from './exec-argv.js';
import { PARSER_CONFIGURATION } from './parser-config.js';
import { globalFlags, logSettings, type GlobalArgs } from './global-flags.js';
import { configureLogging, logger, reportError } from '../runtime/log.js';
import { versionText } from './version.js';

/** A command line yargs rejected: unknown flag or command, missing or extra argument. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function buildCli(args: readonly string[], context: CliContext): Argv<GlobalArgs> {
  let cli = globalFlags(yargs(args))
    .scriptName('tsrun')
    .usage('$0 [global options] <command> [command options] [arguments...]')
    .parserConfiguration(PARSER_CONFIGURATION)
    .middleware((argv) => {
      if (argv.criu !== undefined) logger.debug('--criu is ignored: tsrun does not checkpoint containers');
      if (typeof argv.rootless === 'string') logger.debug('--rootless is ignored: tsrun detects rootless mode itself');
    });
  for (const command of commands(context)) cli = cli.command(command);
  return cli
    // Like runc, no command means help. Not demandCommand: that would report
    // "tsrun --bogus list" (read as --bogus=list) as a missing command.
    .command('$0', false, {}, () => {
      cli.showHelp((help) => context.write(`${help}\n`));
    })
    .strict()
    .help()
    .alias('help', 'h')
    .version(versionText())
    .alias('version', 'v')
    .exitProcess(false)
    .fail((message, error, current) => {
      // Errors of the command itself pass through; yargs's own (YError) are usage errors.
      if (error != null && error.name !== 'YError') throw error;
      current.showHelp((help) => context.writeError(`${help}\n\n`));
      throw new UsageError(message ?? error?.message);
    });
}

/** Parses the command line and runs the command; resolves to the exit code. */
export async function runCli(args: readonly string[], context: CliContext): Promise<number> {
  try {
    configureLogging(logSettings(args));
    await buildCli(separateExecCommand(args), context).parseAsync();
    return context.exitCode;
  } catch (error) {
    reportError(error instanceof Error ? error.message : String(error));
    return 1;
  }
}
