import type { CommandModule } from 'yargs';
import type { CliContext } from '../cli-context.js';
import type { GlobalArgs } from '../global-flags.js';
import { createCommand } from './create.js';
import { deleteCommand } from './delete.js';
import { execCommand } from './exec.js';
import { featuresCommand } from './features.js';
import { killCommand } from './kill.js';
import { listCommand } from './list.js';
import { runCommand } from './run.js';
import { specCommand } from './spec.js';
import { startCommand } from './start.js';
import { stateCommand } from './state.js';

// Each command is registered once it works: runc's pause, resume, update,
// events and ps get a file here and a line below when they exist.
// Every command has its own argument type, hence the loosely typed list.
export function commands(context: CliContext): CommandModule<GlobalArgs, any>[] {
  return [
    createCommand(context),
    startCommand(context),
    runCommand(context),
    stateCommand(context),
    killCommand(context),
    deleteCommand(context),
    execCommand(context),
    listCommand(context),
    specCommand(context),
    featuresCommand(context),
  ];
}
