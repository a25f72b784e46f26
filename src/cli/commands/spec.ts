import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import type { CliContext } from '../cli-context.js';
import type { GlobalArgs } from '../global-flags.js';

// spec's own --rootless (a switch) hides runc's global --rootless <value> here.
interface SpecArgs extends Omit<GlobalArgs, 'rootless'> {
  bundle: string | undefined;
  rootless: boolean;
}

export function specCommand(context: CliContext): CommandModule<GlobalArgs, SpecArgs> {
  return {
    command: 'spec',
    describe: 'create a new specification file (config.json)',
    builder: (y) =>
      y
        .option('bundle', { alias: 'b', type: 'string', describe: 'path to the root of the bundle directory' })
        .option('rootless', { type: 'boolean', default: false, describe: 'generate a configuration for a rootless container' }),
    handler: async (argv) => {
      const file = join(resolve(argv.bundle ?? '.'), 'config.json');
      const spec = await context.actions.defaultSpec(argv.rootless);
      // runc's format: tab-indented, and never over an existing file.
      try {
        writeFileSync(file, JSON.stringify(spec, null, '\t'), { flag: 'wx', mode: 0o666 });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`File ${file} exists. Remove it first`);
        throw error;
      }
    },
  };
}
