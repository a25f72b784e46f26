import { hideBin } from 'yargs/helpers';
import { runtimeActions } from './actions.js';
import { runCli } from './cli.js';

const context = {
  actions: runtimeActions,
  write: (text: string) => process.stdout.write(text),
  writeError: (text: string) => process.stderr.write(text),
  exitCode: 0,
};

// exitCode rather than exit(): let stdout drain when it is a pipe.
process.exitCode = await runCli(hideBin(process.argv), context);
