import { fstatSync } from 'node:fs';

/**
 * The chain predicts fd numbers from the set it keeps: a preserved fd that
 * is not actually open would shift every prediction.
 */
export function assertOpen(preserved: number): void {
  for (let fd = 3; fd < 3 + preserved; fd += 1) {
    try {
      fstatSync(fd);
    } catch {
      throw new Error(`--preserve-fds/LISTEN_FDS: fd ${fd} is not open in tsrun; pass only fds that exist`);
    }
  }
}
