import { closeSync, constants, openSync, readFileSync } from 'node:fs';
import type { Process, Spec, State } from '../../config/types.js';
import { isHostRoot } from '../../linux/caller.js';
import { namespacesOf } from '../../linux/container-namespaces.js';
import { withPidNamespaceOf } from '../../linux/enter-namespaces.js';
import { planJoin } from '../../linux/join-plan.js';
import { openChannel, Puppet, SIGKILL } from '../../linux/kernel.js';
import type { NamespaceType } from '../../linux/namespaces.js';
import { findExecutableInProcess, resolveInRoot } from '../../linux/process/find-executable.js';
import { withHome } from '../../linux/process/home-env.js';
import { compileSeccomp } from '../../linux/seccomp/compile-profile.js';
import type { Container } from '../container/container.js';
import { crashPoint } from '../crash-point.js';
import { checkReady, setLimits, walkCheckpoints } from './checkpoint-walk.js';
import { alteredSignals, lastCapability } from './host-facts.js';
import { assertOpen } from './preserved-fds.js';
import { processFields } from './process-fields.js';
import { sendSeccompListener } from '../../linux/seccomp/send-listener.js';
import { sendToConsoleSocket, takePtyMaster } from '../../linux/process/pty-master.js';

/** A process started in a running container, released to execve. */
export interface JoinedProcess {
  readonly puppet: Puppet;
  /** With process.terminal and no console socket: tsrun's copy of the pty master. */
  readonly terminal?: number;
}

/** What differs between one join and another: an `exec` and a program tsrun itself runs in the container (a startContainer hook). */
export interface JoinOptions {
  /** The program's path in the container, when it is not args[0] (a hook's `path`); checked already. */
  readonly executable?: string;
  /** fds to become its stdin, stdout and stderr instead of tsrun's. */
  readonly stdio?: readonly [number, number, number];
  /** With process.terminal: where the pty master goes, before the process may run (an engine's --console-socket). */
  readonly consoleSocket?: string;
}

/**
 * Start `proc` inside a running container: in all of its init's
 * namespaces, its root, its cgroup, with the container's seccomp profile
 * and the process's own credentials, checked before it may execve. Returns
 * once the process has been released to execve. `state` is the
 * container's, as a seccomp listener receives it.
 */
export function joinContainer(
  container: Container,
  spec: Spec,
  requested: Process,
  preservedFds: number,
  state: State,
  options: JoinOptions = {},
): JoinedProcess {
  const { record } = container;
  const cgroup = container.cgroup();
  const init = record.pid;
  const proc: Process = {
    ...requested,
    env: withHome(requested.env ?? [], requested.user?.uid ?? 0, resolveInRoot(`/proc/${init}/root`, '/etc/passwd')?.host),
  };
  const executable = options.executable ?? findExecutableInProcess(proc, init);
  const seccomp = spec.linux?.seccomp === undefined ? undefined : compileSeccomp(spec.linux.seccomp);
  assertOpen(preservedFds);
  const fields = processFields(spec, proc, 'exec');
  const namespaces = namespacesOf(init);
  const pidNamespace = namespaces.find((n) => n.type === 'pid');
  // setns(CLONE_NEWPID) also wants CAP_SYS_ADMIN in the caller's own user
  // namespace, and so does the way back to tsrun's own pid namespace: a
  // tsrun that is not the host's root (unprivileged, or root of rootless
  // podman's user namespace) lets the chain enter the pid namespace from
  // inside the container's user namespace, and fork (see planJoin).
  const pidByChain = pidNamespace !== undefined && !isHostRoot();
  const setgroupsAllowed = readFileSync(`/proc/${init}/setgroups`, 'utf8').trim() === 'allow';
  const opened: Array<{ type: NamespaceType; fd: number }> = [];
  let rootFd: number | undefined;
  try {
    for (const { type, path } of namespaces) {
      if (type !== 'pid' || pidByChain) opened.push({ type, fd: openSync(path, 'r') });
    }
    rootFd = openSync(`/proc/${init}/root`, constants.O_RDONLY | constants.O_DIRECTORY);
    const channel = openChannel();
    const plan = planJoin({
      proc,
      namespaceFds: opened,
      rootFd,
      preservedFds,
      channel,
      lastCap: lastCapability(),
      signalsToReset: alteredSignals(),
      executable: { path: executable },
      setgroupsAllowed,
      sessionKeyring: `_ses.${record.id}`,
      ...(spec.linux?.personality === undefined ? {} : { personality: spec.linux.personality }),
      ...(seccomp === undefined ? {} : { seccomp }),
      ...(fields.appArmor === undefined ? {} : { appArmor: fields.appArmor }),
      ...(fields.selinuxLabel === undefined ? {} : { selinuxLabel: fields.selinuxLabel }),
      ...(options.stdio === undefined ? {} : { stdio: options.stdio }),
    });
    crashPoint('exec:before-clone');
    const puppet = withPidNamespaceOf(pidByChain ? undefined : pidNamespace?.path, () => Puppet.launch(0, channel, plan.steps));
    let terminal: number | undefined;
    try {
      walkCheckpoints(puppet, plan.checkpoints, {
        spawned() {
          fields.beforeCgroup(puppet.pid);
          cgroup?.join(puppet.pid);
          setLimits(puppet.pid, proc);
          // With a fork to come, the priorities wait for the child: a SCHED_RESET_ON_FORK policy does not survive a fork.
          if (!pidByChain) fields.spawned(puppet.pid);
        },
        forked() {
          // The cgroup, rlimits and oom_score_adj set on the forker are inherited by its child.
          puppet.followFork();
          fields.spawned(puppet.pid);
        },
        terminal() {
          if (plan.pty === undefined) throw new Error('a terminal checkpoint without a pty');
          // Sized, and in the engine's hands, while the process still waits:
          // a program that asks for its window size at once (stty size, an
          // editor) must not see 0x0. An engine that sizes the pty itself
          // (podman 4.3 sends no consoleSize; conmon resizes once it holds
          // the master) gets it before execve, as from runc, not after.
          const master = takePtyMaster(puppet.pid, plan.pty.master, proc.consoleSize);
          if (options.consoleSocket === undefined) terminal = master;
          else sendToConsoleSocket(options.consoleSocket, master);
        },
        'seccomp-listener'() {
          if (plan.seccompListener === undefined || spec.linux?.seccomp === undefined) throw new Error('a seccomp-listener checkpoint without a listener');
          sendSeccompListener(puppet.pid, plan.seccompListener, spec.linux.seccomp, state);
        },
        ready: () => checkReady(puppet.pid, plan, fields),
      });
      crashPoint('exec:released');
      return { puppet, ...(terminal === undefined ? {} : { terminal }) };
    } catch (error) {
      if (terminal !== undefined) closeSync(terminal);
      puppet.kill(SIGKILL);
      puppet.reap();
      puppet.detach();
      throw error;
    }
  } finally {
    for (const { fd } of opened) closeSync(fd);
    if (rootFd !== undefined) closeSync(rootFd);
  }
}
