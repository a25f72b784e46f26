import { writeSync } from 'node:fs';
import { configureLogging, reportError } from '../runtime/log.js';
import { parseFastState } from './fast-state.js';

const args = process.argv.slice(2);
const fast = parseFastState(args);

// exitCode rather than exit(): let stdout drain when it is a pipe.
if (fast !== undefined) {
  configureLogging(fast.log);
  try {
    const summary = await (await import('../runtime/commands/state.js')).state(fast.global, fast.id);
    writeStdout(`${JSON.stringify(summary, null, 2)}\n`);
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
