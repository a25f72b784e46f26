import type { CommandModule } from 'yargs';
import type { CliContext } from '../cli-context.js';
import type { GlobalArgs } from '../global-flags.js';
import { createCommand } from './create.js';
import { deleteCommand } from './delete.js';
import { eventsCommand } from './events.js';
import { execCommand } from './exec.js';
import { featuresCommand } from './features.js';
import { killCommand } from './kill.js';
import { listCommand } from './list.js';
import { pauseCommand } from './pause.js';
import { psCommand } from './ps.js';
import { resumeCommand } from './resume.js';
import { runCommand } from './run.js';
import { specCommand } from './spec.js';
import { startCommand } from './start.js';
import { stateCommand } from './state.js';
import { updateCommand } from './update.js';

// Every command has its own argument type, hence the loosely typed list.
export function commands(context: CliContext): CommandModule<GlobalArgs, any>[] {
  return [
    createCommand(context),
    startCommand(context),
    runCommand(context),
    stateCommand(context),
    killCommand(context),
    deleteCommand(context),
    pauseCommand(context),
    resumeCommand(context),
    updateCommand(context),
    eventsCommand(context),
    psCommand(context),
    execCommand(context),
    listCommand(context),
    specCommand(context),
    featuresCommand(context),
  ];
}
