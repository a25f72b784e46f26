import { AT_FDCWD } from '../../ffi/constants.js';
import type { LinuxPersonality, Process } from '../config/types.js';
import { ChainWriter } from './chain-writer.js';
import { FdTable, preservedRange } from './fd-table.js';
import { checkpointsOf, EXEC_CHECKPOINTS, type ExecCheckpoint } from './checkpoints.js';
import type { ChainInput, PlannedChain } from './planned-chain.js';
import { NAMESPACES, type NamespaceType } from './namespaces.js';
import { planAppArmorExec } from './process/apparmor.js';
import { planProcessEnd } from './process/plan-process-end.js';
import { planSessionKeyring } from './process/session-keyring.js';
import { planSelinuxLabel } from './process/selinux.js';
import { planGuards } from './process/plan-guards.js';
import { planPersonality } from './process/personality.js';
import { planAttachTerminal, planOpenPty } from './process/plan-terminal.js';

/** Everything the planner of an `exec` process needs besides the process itself. */
export interface JoinPlanInput extends ChainInput {
  readonly proc: Process;
  /** fds (open in the parent, inherited) of the container's namespaces to join, user first, mount last. */
  readonly namespaceFds: ReadonlyArray<{ readonly type: NamespaceType; readonly fd: number }>;
  /** O_PATH fd of the container init's root directory (/proc/<pid>/root). */
  readonly rootFd: number;
  /** Whether the container's user namespace lets its processes call setgroups(2). */
  readonly setgroupsAllowed: boolean;
  /** Name of the session keyring to join instead of the caller's. */
  readonly sessionKeyring: string;
  /** linux.personality of the container: its processes share one execution domain. */
  readonly personality?: LinuxPersonality;
  /** Inherited fds to become the process's stdin, stdout and stderr; without them it keeps tsrun's. */
  readonly stdio?: readonly [number, number, number];
}

export type JoinPlan = PlannedChain<ExecCheckpoint>;

/**
 * A process that joins a running container (`tsrun exec`), as chain steps.
 * The container exists already: nothing is mounted, only entered. The parent
 * meets the process at two checkpoints:
 * - "spawned": nothing done yet; the parent moves it into the container's
 *   cgroup and sets its rlimits and oom_score_adj.
 * - "terminal" (with process.terminal): a pty opened in the container's
 *   devpts; the parent takes a copy of its master.
 * - "ready": inside every namespace, rooted where the init is, leading a
 *   session of its own, with its credentials set; the parent checks
 *   /proc/<pid>/status, then releases it straight into execve.
 * The pid namespace is usually not here: the parent's main thread enters it
 * around clone(2), as for an init that joins one by path. An unprivileged
 * parent cannot (setns(CLONE_NEWPID) wants CAP_SYS_ADMIN in its own user
 * namespace too): then the pid namespace is among `namespaceFds`, entered
 * after the user namespace, and since that only places the process's
 * children, the process forks (checkpoint "forked") and its child goes on.
 */
export function planJoin(input: JoinPlanInput): JoinPlan {
  const { proc, channel } = input;
  const chainFds = [channel.syncRead, channel.reportWrite];
  const nsFds = input.namespaceFds.map((n) => n.fd);
  const stdio = input.stdio ?? [];
  const kept = [0, 1, 2, ...preservedRange(input.preservedFds), input.rootFd, ...nsFds, ...chainFds, ...stdio];
  const fds = new FdTable(kept);
  const w = new ChainWriter(fds);

  planGuards(w, 'not-dumpable');
  w.closeInherited(3 + input.preservedFds, kept);
  planStdio(w, input.stdio);
  planAppArmorExec(w, input.appArmor);
  planSelinuxLabel(w, input.selinuxLabel, true);
  w.checkpoint('spawned');

  for (const { type, fd } of input.namespaceFds) {
    w.check(`setns into the container's ${type} namespace`, 'setns', [fd, NAMESPACES[type].flag]);
    w.close(fd);
  }
  if (input.namespaceFds.some((n) => n.type === 'pid')) {
    w.fork('fork into the container\'s pid namespace');
    w.checkpoint('forked');
    // A new process: neither the parent-death signal nor (to be sure) the dumpable flag carries over.
    planGuards(w, 'not-dumpable');
  }
  // Entering the mount namespace put the process at that namespace's root;
  // the init may be chrooted below it (a container without a mount
  // namespace of its own), so take the init's root itself.
  w.check("fchdir to the container init's root", 'fchdir', [input.rootFd]);
  w.check("chroot to the container init's root", 'chroot', ['.']);
  w.close(input.rootFd);
  // Not the caller's session keyring: its keys are not the container's.
  planSessionKeyring(w, input.sessionKeyring);
  planPersonality(input.personality, w);
  const pty = proc.terminal === true ? planOpenPty(w, AT_FDCWD) : undefined;
  if (pty !== undefined) {
    w.checkpoint('terminal');
    w.close(pty.master);
    planAttachTerminal(w, pty.slave);
  } else {
    // Without a terminal too, runc's exec process leads a session and a
    // process group of its own (pgid = sid = its pid): the keys typed at the
    // caller's terminal signal tsrun alone, which forwards them, and the
    // caller's job control never stops or kills the process behind its back.
    w.check('setsid (a session of its own, as runc gives an exec process)', 'setsid', []);
  }

  const end = planProcessEnd(
    {
      proc,
      lastCap: input.lastCap,
      setgroupsAllowed: input.setgroupsAllowed,
      executable: input.executable,
      preservedFds: input.preservedFds,
      signalsToReset: input.signalsToReset,
      ...(input.seccomp === undefined ? {} : { seccomp: input.seccomp }),
    },
    w,
    fds,
  );
  return { steps: w.steps, checkpoints: checkpointsOf(w.checkpoints, EXEC_CHECKPOINTS), ...end, ...(pty === undefined ? {} : { pty }) };
}

/** dup2 each given fd onto 0, 1, 2, then close the originals (one fd may serve twice). */
function planStdio(w: ChainWriter, stdio: JoinPlanInput['stdio']): void {
  if (stdio === undefined) return;
  stdio.forEach((fd, target) => w.check(`dup2(${fd}, ${target}) (the process's stdio)`, 'dup2', [fd, target]));
  for (const fd of new Set(stdio)) if (fd > 2) w.close(fd);
}
