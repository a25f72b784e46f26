import { writeSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import type { ConsoleSize } from '../../config/types.js';
import { setWindowSize } from '../../linux/kernel.js';

/** The size of tsrun's own terminal (its stdout), which a foreground pty mirrors; undefined when stdout is no terminal. */
export function callerWindowSize(): ConsoleSize | undefined {
  return process.stdout.isTTY === true ? { height: process.stdout.rows, width: process.stdout.columns } : undefined;
}

/** Give the pty tsrun's own terminal size now, before the process behind it runs. */
export function mirrorCallerSize(master: number): void {
  const size = callerWindowSize();
  if (size !== undefined) setWindowSize(master, size.height, size.width);
}

/**
 * A foreground `run -t` or `exec -t` without --console-socket: tsrun's own
 * terminal becomes the container's. Keystrokes go to the master raw (the
 * pty does the line editing and signals), output comes back, and a resize
 * of tsrun's terminal resizes the pty. `finish` waits for the last output
 * once the process has exited, and restores tsrun's terminal.
 */
export function attachTerminal(master: number): { finish: () => Promise<void> } {
  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  if (raw) stdin.setRawMode(true);
  const resize = () => {
    const size = callerWindowSize();
    if (size !== undefined) setWindowSize(master, size.height, size.width);
  };
  resize();
  process.on('SIGWINCH', resize);
  const forward = (chunk: Buffer) => {
    for (let done = 0; done < chunk.length; ) done += writeSync(master, chunk, done);
  };
  stdin.on('data', forward);
  const output = new ReadStream(master);
  output.on('data', (chunk) => process.stdout.write(chunk));
  // Once every process holding the slave is gone, reading the master fails with EIO: that is the end.
  const drained = new Promise<void>((resolve) => {
    output.on('end', resolve);
    output.on('error', () => resolve());
    output.on('close', resolve);
  });
  return {
    finish: async () => {
      await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
      stdin.off('data', forward);
      stdin.pause();
      if (raw) stdin.setRawMode(false);
      process.off('SIGWINCH', resize);
      output.destroy();
    },
  };
}
