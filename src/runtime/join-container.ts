import { closeSync, constants, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostKernel } from '../../ffi/host-kernel.js';
import { Puppet } from '../../ffi/puppet.js';
import type { Process, Spec, State } from '../config/types.js';
import { namespacesOf } from '../linux/container-namespaces.js';
import { withPidNamespaceOf } from '../linux/enter-namespaces.js';
import { planJoin } from '../linux/join-plan.js';
import type { NamespaceType } from '../linux/namespaces.js';
import { findExecutableInProcess } from '../linux/process/find-executable.js';
import type { ExpectedCredentials } from '../linux/process/plan-credentials.js';
import type { PlannedPty } from '../linux/process/plan-terminal.js';
import { applyRlimits } from '../linux/process/rlimits.js';
import { verifyCredentials } from '../linux/process/verify-credentials.js';
import { compileSeccomp } from '../linux/seccomp/compile-profile.js';
import { SECCOMP_LISTENER_CHECKPOINT, type SeccompListener } from '../linux/seccomp/plan-seccomp.js';
import type { ContainerRecord } from './container-record.js';
import { alteredSignals, lastCapability } from './host-facts.js';
import { assertOpen } from './preserved-fds.js';
import { processFields } from './process-fields.js';
import { sendSeccompListener } from './seccomp-listener.js';
import { takePtyMaster } from './terminal.js';

/** A process started in a running container, released to execve. */
export interface JoinedProcess {
  readonly puppet: Puppet;
  /** With process.terminal: tsrun's copy of the pty master. */
  readonly terminal?: number;
}

/** What differs from an `exec` when tsrun itself runs a program in the container (a startContainer hook). */
export interface JoinOptions {
  /** The program's path in the container, when it is not args[0] (a hook's `path`); checked already. */
  readonly executable?: string;
  /** fds to become its stdin, stdout and stderr instead of tsrun's. */
  readonly stdio?: readonly [number, number, number];
}

/**
 * Start `proc` inside a running container: in all of its init's
 * namespaces, its root, its cgroup, with the container's seccomp profile
 * and the process's own credentials, checked before it may execve. Returns
 * once the process has been released to execve. `state` is the
 * container's, as a seccomp listener receives it.
 */
export function joinContainer(
  record: ContainerRecord,
  spec: Spec,
  proc: Process,
  preservedFds: number,
  state: State,
  options: JoinOptions = {},
): JoinedProcess {
  const init = record.pid;
  const executable = options.executable ?? findExecutableInProcess(proc, init);
  const seccomp = spec.linux?.seccomp === undefined ? undefined : compileSeccomp(spec.linux.seccomp);
  assertOpen(preservedFds);
  const fields = processFields(spec, proc, 'exec');
  const namespaces = namespacesOf(init);
  const pidNamespace = namespaces.find((n) => n.type === 'pid');
  // setns(CLONE_NEWPID) also wants CAP_SYS_ADMIN in the caller's own user
  // namespace: an unprivileged tsrun lets the chain enter the pid namespace
  // from inside the container's user namespace, and fork (see planJoin).
  const pidByChain = pidNamespace !== undefined && process.geteuid?.() !== 0;
  const setgroupsAllowed = readFileSync(`/proc/${init}/setgroups`, 'utf8').trim() === 'allow';
  const opened: Array<{ type: NamespaceType; fd: number }> = [];
  let rootFd: number | undefined;
  try {
    for (const { type, path } of namespaces) {
      if (type !== 'pid' || pidByChain) opened.push({ type, fd: openSync(path, 'r') });
    }
    rootFd = openSync(`/proc/${init}/root`, constants.O_RDONLY | constants.O_DIRECTORY);
    const root = rootFd;
    let credentials: ExpectedCredentials | undefined;
    let pty: PlannedPty | undefined;
    let listener: SeccompListener | undefined;
    const puppet = withPidNamespaceOf(pidByChain ? undefined : pidNamespace?.path, () =>
      Puppet.launch(0, (channel) => {
        const plan = planJoin({
          proc,
          namespaceFds: opened,
          rootFd: root,
          preservedFds,
          channel,
          lastCap: lastCapability(),
          signalsToReset: alteredSignals(),
          executable,
          setgroupsAllowed,
          sessionKeyring: `_ses.${record.id}`,
          ...(spec.linux?.personality === undefined ? {} : { personality: spec.linux.personality }),
          ...(seccomp === undefined ? {} : { seccomp }),
          ...(fields.appArmor === undefined ? {} : { appArmor: fields.appArmor }),
          ...(fields.selinuxLabel === undefined ? {} : { selinuxLabel: fields.selinuxLabel }),
          ...(options.stdio === undefined ? {} : { stdio: options.stdio }),
        });
        credentials = plan.credentials;
        pty = plan.pty;
        listener = plan.seccompListener;
        return plan.steps;
      }),
    );
    let terminal: number | undefined;
    try {
      puppet.reachCheckpoint('spawned');
      fields.beforeCgroup(puppet.pid);
      if (record.cgroupPath !== undefined) {
        hostKernel.writeFile(join(record.cgroupPath, 'cgroup.procs'), String(puppet.pid), "the container's cgroup");
      }
      applyRlimits(hostKernel, puppet.pid, proc.rlimits);
      if (proc.oomScoreAdj !== undefined) {
        hostKernel.writeFile(`/proc/${puppet.pid}/oom_score_adj`, String(proc.oomScoreAdj), 'process.oomScoreAdj');
      }
      if (!pidByChain) fields.spawned(puppet.pid);
      puppet.release();
      if (pidByChain) {
        // The cgroup, rlimits and oom_score_adj set on the forker are inherited by its child. The
        // priorities are set on the child itself: a SCHED_RESET_ON_FORK policy does not survive a fork.
        puppet.reachCheckpoint('forked');
        puppet.followFork();
        fields.spawned(puppet.pid);
        puppet.release();
      }
      if (pty !== undefined) {
        puppet.reachCheckpoint('terminal');
        terminal = takePtyMaster(puppet.pid, pty.master, proc.consoleSize);
        puppet.release();
      }
      if (listener !== undefined && spec.linux?.seccomp !== undefined) {
        puppet.reachCheckpoint(SECCOMP_LISTENER_CHECKPOINT);
        sendSeccompListener(puppet.pid, listener, spec.linux.seccomp, state);
        puppet.release();
      }
      puppet.reachCheckpoint('ready');
      if (credentials !== undefined) verifyCredentials(puppet.pid, credentials);
      fields.ready(puppet.pid);
      puppet.release();
      return { puppet, ...(terminal === undefined ? {} : { terminal }) };
    } catch (error) {
      if (terminal !== undefined) closeSync(terminal);
      puppet.kill(9);
      puppet.reap();
      puppet.detach();
      throw error;
    }
  } finally {
    for (const { fd } of opened) closeSync(fd);
    if (rootFd !== undefined) closeSync(rootFd);
  }
}
