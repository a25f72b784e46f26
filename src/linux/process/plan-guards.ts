import { PR, SIGKILL } from '../../../ffi/constants.js';
import type { ChainWriter } from '../chain-writer.js';


/**
 * The first steps of every chain, before the process is in any namespace
 * of the container:
 * - it dies with tsrun, so a failed create or exec leaves nothing running;
 * - it is not dumpable. Until execve it is a copy of Node, and a process
 *   of the container could otherwise open /proc/<pid>/exe, the host's node
 *   binary, and write it once Node has exited (the CVE-2019-5736 class),
 *   or read the parent's memory through /proc/<pid>/mem. Not dumpable,
 *   these need CAP_SYS_PTRACE; execve of the container's program makes it
 *   dumpable again.
 */
export function planGuards(w: ChainWriter, dumpable: 'not-dumpable' | 'dumpable-until-mapped'): void {
  w.check('prctl(PR_SET_PDEATHSIG, SIGKILL)', 'prctl', [PR.SET_PDEATHSIG, SIGKILL, 0, 0, 0]);
  if (dumpable === 'not-dumpable') planNotDumpable(w);
}

/**
 * A process that is not dumpable has its /proc/<pid> files owned by root of
 * its user namespace, or by the host's root while that root is unmapped: an
 * unprivileged parent could then not write the new user namespace's
 * uid_map, gid_map and setgroups. So under an unprivileged caller the
 * process stays dumpable until the maps are written (with a "tmpcopyup"
 * mount, until its copy is made: the parent reads it through
 * /proc/<pid>/fd). No program of the container runs before then, and that
 * caller's containers cannot write the host's node binary anyway (root
 * owns it).
 */
export function planNotDumpable(w: ChainWriter): void {
  w.check('prctl(PR_SET_DUMPABLE, 0)', 'prctl', [PR.SET_DUMPABLE, 0, 0, 0, 0]);
}
