import { renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** --pid-file, written atomically: engines poll for this file and read it at once. */
export function writePidFile(path: string, pid: number): void {
  const absolute = resolve(path);
  const temporary = join(dirname(absolute), `.${process.pid}.pid.tmp`);
  writeFileSync(temporary, String(pid));
  renameSync(temporary, absolute);
}
