import { lstatSync } from 'node:fs';
import { readMountInfo } from '../mountinfo.js';

/**
 * Masking is two tolerant steps (a missing path is not an error), so the
 * steps' reports alone cannot tell "nothing to mask" from "mask failed".
 * The kernel can: every masked path that exists in the container must be a
 * mount point in its mountinfo.
 */
export function verifyMasks(pid: number, maskedPaths: readonly string[]): void {
  const mountPoints = new Set(readMountInfo(pid).map((m) => m.mountPoint));
  const unmasked = maskedPaths.filter((path) => exists(pid, path) && !mountPoints.has(path));
  if (unmasked.length > 0) {
    throw new Error(`linux.maskedPaths: could not mask ${unmasked.join(', ')}, which the container has`);
  }
}

function exists(pid: number, path: string): boolean {
  try {
    lstatSync(`/proc/${pid}/root${path}`);
    return true;
  } catch {
    return false;
  }
}
