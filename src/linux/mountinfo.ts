import { readFileSync } from 'node:fs';
import { MS } from '../../ffi/constants.js';

export interface MountInfoEntry {
  readonly id: number;
  readonly parent: number;
  readonly root: string;
  readonly mountPoint: string;
  readonly options: readonly string[];
  readonly optional: readonly string[];
  readonly fsType: string;
  readonly source: string;
  readonly superOptions: readonly string[];
}

/** Parse /proc/<pid>/mountinfo (proc(5)); octal escapes in paths are decoded. */
export function parseMountInfo(text: string): MountInfoEntry[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [left = '', right = ''] = line.split(' - ');
      const fields = left.split(' ');
      const [fsType = '', source = '', superOptions = ''] = right.split(' ');
      return {
        id: Number(fields[0]),
        parent: Number(fields[1]),
        root: unescape(fields[3] ?? ''),
        mountPoint: unescape(fields[4] ?? ''),
        options: (fields[5] ?? '').split(','),
        optional: fields.slice(6),
        fsType,
        source: unescape(source),
        superOptions: superOptions.split(','),
      };
    });
}

export function readMountInfo(pid: number | 'self' = 'self'): MountInfoEntry[] {
  return parseMountInfo(readFileSync(`/proc/${pid}/mountinfo`, 'utf8'));
}

/** The mount that `path` (absolute, symlinks already resolved) lives on: the last, deepest match. */
export function mountContaining(mounts: readonly MountInfoEntry[], path: string): MountInfoEntry | undefined {
  let best: MountInfoEntry | undefined;
  for (const m of mounts) {
    const inside = path === m.mountPoint || m.mountPoint === '/' || path.startsWith(`${m.mountPoint}/`);
    if (inside && (best === undefined || m.mountPoint.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

/**
 * The per-mount flags a user namespace may not clear on remount (the kernel
 * "locks" them): keep them when remounting a bind read-only.
 */
export function lockedFlags(entry: MountInfoEntry | undefined): number {
  if (entry === undefined) return 0;
  const table: Record<string, number> = {
    nosuid: MS.NOSUID,
    nodev: MS.NODEV,
    noexec: MS.NOEXEC,
    noatime: MS.NOATIME,
    nodiratime: MS.NODIRATIME,
    relatime: MS.RELATIME,
    ro: MS.RDONLY,
  };
  return entry.options.reduce((flags, o) => flags | (table[o] ?? 0), 0);
}

function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}
