import { readFileSync } from 'node:fs';

/** Owner ids for a copy: the host's ids (as this process sees them) in, the ids to give the copy out. */
export type CopyOwner = (uid: number, gid: number) => readonly [number, number];

export interface Range {
  readonly inside: number;
  readonly outside: number;
  readonly size: number;
}

/**
 * How a copy made for the container keeps an owner: as the container sees
 * it. An id its user namespace maps stays as it is; one it does not map
 * shows inside as the overflow id (nobody), so that is what the copy gets,
 * as runc's copy, made from inside, does. (The kernel would refuse an
 * unmapped owner on a filesystem mounted in that namespace: EOVERFLOW.)
 * Without a user namespace of its own the map is the identity and nothing
 * changes.
 */
export function copyOwnerFor(pid: number): CopyOwner {
  const uids = readMap(`/proc/${pid}/uid_map`);
  const gids = readMap(`/proc/${pid}/gid_map`);
  const overflowUid = overflow('/proc/sys/kernel/overflowuid');
  const overflowGid = overflow('/proc/sys/kernel/overflowgid');
  return (uid, gid) => [asSeenInside(uid, uids, overflowUid), asSeenInside(gid, gids, overflowGid)];
}

/** One id of the host, as the copy owner for a container with these mappings (inside → outside ranges). */
export function asSeenInside(id: number, map: readonly Range[], overflowId: number): number {
  if (map.some((r) => id >= r.outside && id < r.outside + r.size)) return id;
  const nobody = map.find((r) => overflowId >= r.inside && overflowId < r.inside + r.size);
  // Not even nobody is mapped: keep the id, and let the kernel's EOVERFLOW say so.
  return nobody === undefined ? id : nobody.outside + (overflowId - nobody.inside);
}

function readMap(path: string): Range[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [inside = 0, outside = 0, size = 0] = line.trim().split(/\s+/).map(Number);
      return { inside, outside, size };
    });
}

function overflow(path: string): number {
  return Number(readFileSync(path, 'utf8').trim());
}
