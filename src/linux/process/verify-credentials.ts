import { readFileSync } from 'node:fs';
import type { IdMapping } from '../../config/types.js';
import type { ExpectedCredentials } from './plan-credentials.js';

/**
 * Compare what the kernel shows for the container process with what the
 * plan asked for, before it may execve. The chain cannot branch, so this is
 * where "the steps reported success" becomes "the process is what we meant".
 */
export function verifyCredentials(pid: number, expected: ExpectedCredentials): void {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  // The kernel's view of the mappings: right for new, joined and no user namespace alike.
  const uidMap = readMap(pid, 'uid_map');
  const gidMap = readMap(pid, 'gid_map');
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
