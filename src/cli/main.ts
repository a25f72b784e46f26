import { writeSync } from 'node:fs';
import { configureLogging, reportError } from '../runtime/log.js';
import { parseFastCommand, type FastCommand } from './fast-path.js';

const args = process.argv.slice(2);
const fast = parseFastCommand(args);

// exitCode rather than exit(): let stdout drain when it is a pipe.
if (fast !== undefined) {
  configureLogging(fast.log);
  try {
    await runFast(fast);
  } catch (error) {
    reportError(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
} else {
  const [{ runtimeActions }, { runCli }] = await Promise.all([import('./actions.js'), import('./cli.js')]);
  const context = {
    actions: runtimeActions,
    write: (text: string) => process.stdout.write(text),
    writeError: (text: string) => process.stderr.write(text),
    exitCode: 0,
  };
  process.exitCode = await runCli(args, context);
}

/** What the yargs commands of the same name do (src/cli/commands/), without yargs. */
async function runFast({ global, call }: FastCommand): Promise<void> {
  switch (call.command) {
    case 'state': {
      const summary = (await import('../runtime/commands/state.js')).state(global, call.id);
      writeStdout(`${JSON.stringify(summary, null, 2)}\n`);
      return;
    }
    case 'start':
      return (await import('../runtime/commands/start.js')).start(global, call.id);
    case 'kill':
      return (await import('../runtime/commands/kill.js')).kill(global, call.id, call.signal, false);
    case 'delete':
      return (await import('../runtime/commands/delete.js')).deleteContainer(global, call.id, call.force);
    case 'create':
      return (await import('../runtime/commands/create.js')).create(global, call.options);
    case 'run':
      process.exitCode = await (await import('../runtime/commands/run.js')).run(global, call.options);
      return;
    case 'exec':
      process.exitCode = await (await import('../runtime/commands/exec.js')).exec(global, call.options);
  }
}

/**
 * fd 1 written directly: process.stdout would first build a tty or net
 * stream around it, a few ms of the `state` engines call most (STARTUP.md).
 * A non-blocking stdout that is full (EAGAIN) gets the rest through the stream.
 */
function writeStdout(text: string): void {
  const bytes = Buffer.from(text);
  let offset = 0;
  try {
    while (offset < bytes.length) offset += writeSync(1, bytes, offset);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    process.stdout.write(bytes.subarray(offset));
  }
}
