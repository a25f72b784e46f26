import { readFileSync, statSync } from 'node:fs';
import type { IdMapping } from '../../config/types.js';
import type { ExpectedCredentials } from './plan-credentials.js';

/**
 * Compare what the kernel shows for the container process with what the
 * plan asked for, before it may execve. The chain cannot branch, so this is
 * where "the steps reported success" becomes "the process is what we meant".
 */
export function verifyCredentials(pid: number, expected: ExpectedCredentials): void {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  // status shows ids as this process's user namespace sees them. The kernel's view of the
  // mappings translates them for a new or joined user namespace; in tsrun's own one (none in
  // config.json) a uid_map would give the ids of the namespace above, so none applies.
  const own = sharesUserNamespace(pid);
  const uidMap = own ? IDENTITY : readMap(pid, 'uid_map');
  const gidMap = own ? IDENTITY : readMap(pid, 'gid_map');
  const field = (name: string): string => new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';
  const uid = hostId(expected.uid, uidMap);
  const gid = hostId(expected.gid, gidMap);
  const problems: string[] = [];
  const expectIds = (name: string, want: number) => {
    const got = field(name).split(/\s+/).map(Number);
    if (got.length !== 4 || got.some((v) => v !== want)) problems.push(`${name} is "${field(name)}", expected ${want} (real, effective, saved, fs)`);
  };
  expectIds('Uid', uid);
  expectIds('Gid', gid);
  if (expected.groups !== undefined) {
    const wantGroups = expected.groups.map((g) => hostId(g, gidMap)).sort((a, b) => a - b);
    const gotGroups = field('Groups').split(/\s+/).filter((g) => g !== '').map(Number).sort((a, b) => a - b);
    if (wantGroups.join(',') !== gotGroups.join(',')) problems.push(`Groups is "${gotGroups.join(' ')}", expected "${wantGroups.join(' ')}"`);
  }
  const masks: Array<[string, bigint]> = [
    ['CapInh', expected.inheritable],
    ['CapPrm', expected.permitted],
    ['CapEff', expected.effective],
    ['CapBnd', expected.bounding],
    ['CapAmb', expected.ambient],
  ];
  for (const [name, want] of masks) {
    const got = BigInt(`0x${field(name)}`);
    if (got !== want) problems.push(`${name} is ${got.toString(16)}, expected ${want.toString(16)}`);
  }
  const nnp = field('NoNewPrivs') === '1';
  if (nnp !== expected.noNewPrivileges) problems.push(`NoNewPrivs is ${nnp ? 1 : 0}, expected ${expected.noNewPrivileges ? 1 : 0}`);
  if (expected.seccompBeforeReady === true && field('Seccomp') !== '2') {
    problems.push(`Seccomp is ${field('Seccomp')}, expected 2 (a filter from linux.seccomp)`);
  }
  if (problems.length > 0) {
    throw new Error(`the container process (pid ${pid}) does not have the credentials config.json asks for: ${problems.join('; ')}`);
  }
}

const IDENTITY: readonly IdMapping[] = [{ containerID: 0, hostID: 0, size: 4294967295 }];

function sharesUserNamespace(pid: number): boolean {
  try {
    return statSync('/proc/self/ns/user').ino === statSync(`/proc/${pid}/ns/user`).ino;
  } catch {
    // Not ours to inspect (an unprivileged caller's non-dumpable child): it is in a user namespace of its own.
    return false;
  }
}

function readMap(pid: number, file: 'uid_map' | 'gid_map'): IdMapping[] {
  return readFileSync(`/proc/${pid}/${file}`, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [containerID = 0, hostID = 0, size = 0] = line.trim().split(/\s+/).map(Number);
      return { containerID, hostID, size };
    });
}

/** A container id as the host sees it, through the user namespace's mappings. */
function hostId(id: number, mappings: readonly IdMapping[]): number {
  const m = mappings.find((x) => id >= x.containerID && id < x.containerID + x.size);
  // An unmapped id shows as the overflow id.
  return m === undefined ? 65534 : m.hostID + (id - m.containerID);
}
