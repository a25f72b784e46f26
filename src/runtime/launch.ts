import { chmodSync, closeSync, openSync, realpathSync, statSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import { hostKernel } from '../../ffi/host-kernel.js';
import { lastErrno, libc } from '../../ffi/libc.js';
import { O } from '../../ffi/constants.js';
import { Puppet } from '../../ffi/puppet.js';
import { isDenied, SyscallError } from '../../ffi/syscall-error.js';
import type { Spec, State } from '../config/types.js';
import { applyDeviceRules } from '../linux/cgroups/device-cgroup.js';
import { applyResources, cgroupDirectory, checkResources, joinCgroup, removeCgroups } from '../linux/cgroups/cgroup2.js';
import { requestedFields, type ResourcePlan } from '../linux/cgroups/resources/plan-resources.js';
import { inNamespacesOf, withPidNamespaceOf } from '../linux/enter-namespaces.js';
import { writeIdMaps, writeTimeOffsets } from '../linux/id-maps.js';
import { planInit, type InitPlan } from '../linux/init-plan.js';
import { readMountInfo } from '../linux/mountinfo.js';
import { mountIdsNow, newMountsUnder, unmountAll } from '../linux/rootfs/host-mounts.js';
import { NAMESPACES, planNamespaces } from '../linux/namespaces.js';
import { findExecutable } from '../linux/process/find-executable.js';
import { ignoredAmbient } from '../linux/process/plan-credentials.js';
import { applyRlimits } from '../linux/process/rlimits.js';
import { resolveSelinuxLabel } from '../linux/process/selinux.js';
import { logger } from './log.js';
import { assertOpen } from './preserved-fds.js';
import { compileSeccomp } from '../linux/seccomp/compile-profile.js';
import { SECCOMP_LISTENER_CHECKPOINT } from '../linux/seccomp/plan-seccomp.js';
import { verifyCredentials } from '../linux/process/verify-credentials.js';
import { verifyMasks } from '../linux/rootfs/verify-masks.js';
import { runHooks } from './hooks.js';
import { alteredSignals, lastCapability } from './host-facts.js';
import type { CreateOptions } from './options.js';
import { processFields } from './process-fields.js';
import { sendSeccompListener } from './seccomp-listener.js';
import { takePtyMaster } from './terminal.js';
import { refuseUnsupported } from './unsupported.js';

/** A container whose process waits for `start` (or has failed and been cleaned up). */
export interface LaunchedContainer {
  readonly puppet: Puppet;
  /** Undefined for an unprivileged caller without a delegated cgroup. */
  readonly cgroupPath: string | undefined;
  /** Parents of the cgroup that tsrun created for it, deepest first (delete removes them if empty). */
  readonly cgroupParents: readonly string[];
  readonly rootfs: string;
  /** Mounts made in the host's mount namespace (no mount namespace of its own), deepest first. */
  readonly hostMounts: readonly { readonly id: number; readonly path: string }[];
  /** With process.terminal: tsrun's copy of the pty master, for --console-socket or a foreground `run`. */
  readonly terminal?: number;
}

/** What launch needs besides the options: where the exec fifo is and how to describe state to hooks. */
export interface LaunchContext {
  readonly spec: Spec;
  readonly fifoPath: string;
  readonly systemdCgroup: boolean;
  /** The OCI state hooks receive on stdin, for a given pid. */
  readonly stateFor: (pid: number) => State;
  /** Called as soon as each undo action exists, so a failure can roll back. */
  readonly onUndo: (undo: () => void) => void;
  /** A foreground `run`: a terminal may go to tsrun's own stdio instead of a --console-socket. */
  readonly foreground: boolean;
}

/**
 * Plan the container's process, start it, and walk it through its
 * checkpoints, doing from outside everything that can be done from outside
 * and checking what the kernel shows before letting it go on.
 */
export function launch(o: CreateOptions, ctx: LaunchContext): LaunchedContainer {
  const { spec } = ctx;
  const proc = spec.process;
  if (proc === undefined) throw new Error('config.json: process is required to create a container');
  refuseUnsupported(spec);
  const fields = processFields(spec, proc, 'init');
  const mountLabel = resolveSelinuxLabel(hostKernel, spec.linux?.mountLabel, 'linux.mountLabel');
  if (o.consoleSocket !== undefined && proc.terminal !== true) {
    throw new Error('--console-socket: process.terminal is false, so there is no terminal to send; drop the flag (as runc requires)');
  }
  if (proc.terminal === true && o.consoleSocket === undefined && !ctx.foreground) {
    throw new Error('process.terminal: a detached container needs --console-socket to hand its terminal to (or set "terminal": false)');
  }
  const resources = checkResources(hostKernel, spec.linux?.resources);
  for (const note of resources.ignored) logger.warn(note);
  const namespaces = planNamespaces(spec);
  refuseHostMountNamespace(namespaces.joins);
  const rootfs = rootfsPath(o.bundle, spec.root?.path);
  const executable = findExecutable(proc, rootfs, spec.mounts ?? [], o.bundle);
  const ambientIgnored = ignoredAmbient(proc);
  if (ambientIgnored.length > 0) {
    logger.warn(`process.capabilities.ambient: ${ambientIgnored.join(', ')} not raised: an ambient capability must also be permitted and inheritable`);
  }
  const cgroupPath = cgroupDirectory(spec, o.id, ctx.systemdCgroup);
  const listenFds = inheritedListenFds();
  const preservedFds = o.preserveFds + listenFds;
  assertOpen(preservedFds);
  const processSpec = listenFds > 0 ? withListenEnv(spec, listenFds) : spec;

  // Compiled before anything exists: a profile that cannot be honoured fails here.
  const seccomp = spec.linux?.seccomp === undefined ? undefined : compileSeccomp(spec.linux.seccomp);
  const sharesHostMounts = !namespaces.has('mount');
  const mountsBefore = sharesHostMounts ? mountIdsNow() : undefined;
  if (mountsBefore !== undefined) ctx.onUndo(() => unmountAll(newMountsUnder(rootfs, mountsBefore)));
  const fifoFd = makeExecFifo(ctx.fifoPath);
  const joinFds = new Map<string, number>();
  try {
    // A pid namespace is joined by the parent around clone (see cloneInto); the rest by the child.
    for (const join of namespaces.joins) {
      if (join.type !== 'pid') joinFds.set(join.type, openSync(join.path, 'r'));
    }
    const pidJoin = namespaces.joins.find((j) => j.type === 'pid')?.path;
    const hostMounts = readMountInfo();
    const plan: { credentials?: InitPlan['credentials']; pty?: InitPlan['pty']; seccompListener?: InitPlan['seccompListener'] } = {};
    const puppet = withPidNamespaceOf(pidJoin, () => Puppet.launch(namespaces.cloneFlags & ~(NAMESPACES.cgroup.flag | NAMESPACES.time.flag), (channel) => {
      const init = planInit({
        spec: processSpec,
        bundle: o.bundle,
        rootfs,
        namespaces,
        joinFds,
        fifoFd,
        preservedFds,
        channel,
        lastCap: lastCapability(),
        signalsToReset: alteredSignals(),
        hostMounts,
        noPivot: o.noPivot,
        executable,
        privileged: process.geteuid?.() === 0,
        ...(o.noNewKeyring ? {} : { sessionKeyring: `_ses.${o.id}` }),
        ...(seccomp === undefined ? {} : { seccomp }),
        ...(fields.appArmor === undefined ? {} : { appArmor: fields.appArmor }),
        ...(fields.selinuxLabel === undefined ? {} : { selinuxLabel: fields.selinuxLabel }),
        ...(mountLabel === undefined ? {} : { mountLabel }),
      });
      plan.credentials = init.credentials;
      plan.pty = init.pty;
      plan.seccompListener = init.seccompListener;
      return init.steps;
    }));
    const stop = () => {
      puppet.kill(9);
      puppet.reap();
    };
    ctx.onUndo(stop);
    const pid = puppet.pid;

    puppet.reachCheckpoint('spawned');
    if (namespaces.newUser) writeIdMaps(hostKernel, pid, spec, process.geteuid?.() === 0);
    writeTimeOffsets(hostKernel, pid, spec);
    const createdCgroups = placeInCgroup(cgroupPath, pid, spec, resources);
    const inCgroup = createdCgroups.length > 0;
    if (inCgroup) {
      // A cgroup can only be removed once its processes are gone.
      ctx.onUndo(() => {
        stop();
        removeCgroups(hostKernel, createdCgroups);
      });
      applyDeviceRules(cgroupPath, spec.linux?.resources?.devices);
      applyResources(hostKernel, cgroupPath, resources.writes);
    }
    applyRlimits(hostKernel, pid, proc.rlimits);
    if (proc.oomScoreAdj !== undefined) {
      hostKernel.writeFile(`/proc/${pid}/oom_score_adj`, String(proc.oomScoreAdj), 'process.oomScoreAdj');
    }
    fields.spawned(pid);
    puppet.release();

    puppet.reachCheckpoint('isolated');
    // (prestart hooks run at `start`: config.md puts them after the start operation.)
    runHooks('createRuntime', spec.hooks?.createRuntime, ctx.stateFor(pid));
    puppet.release();

    puppet.reachCheckpoint('mounted');
    const terminal = plan.pty === undefined ? undefined : takePtyMaster(pid, plan.pty.master, proc.consoleSize);
    if (terminal !== undefined) ctx.onUndo(() => closeSync(terminal));
    if ((spec.hooks?.createContainer ?? []).length > 0) {
      inNamespacesOf(pid, () => runHooks('createContainer', spec.hooks?.createContainer, ctx.stateFor(pid)));
    }
    puppet.release();

    if (plan.seccompListener !== undefined && spec.linux?.seccomp !== undefined) {
      puppet.reachCheckpoint(SECCOMP_LISTENER_CHECKPOINT);
      sendSeccompListener(pid, plan.seccompListener, spec.linux.seccomp, ctx.stateFor(pid));
      puppet.release();
    }
    puppet.reachCheckpoint('ready');
    if (plan.credentials !== undefined) verifyCredentials(pid, plan.credentials);
    verifyMasks(pid, spec.linux?.maskedPaths ?? []);
    fields.ready(pid);
    puppet.release();
    const ownMounts = mountsBefore === undefined ? [] : newMountsUnder(rootfs, mountsBefore);
    return {
      puppet,
      cgroupPath: inCgroup ? cgroupPath : undefined,
      cgroupParents: createdCgroups.slice(1),
      rootfs,
      hostMounts: ownMounts,
      ...(terminal === undefined ? {} : { terminal }),
    };
  } finally {
    closeSync(fifoFd);
    for (const fd of joinFds.values()) closeSync(fd);
  }
}

/**
 * Joining a mount namespace means setting the rootfs up in it, pivot_root
 * included: done in the host's own namespace that would move the host's
 * root. (A container that should share the host's mounts omits the mount
 * namespace instead, and gets a chroot.)
 */
function refuseHostMountNamespace(joins: ReadonlyArray<{ type: string; path: string }>): void {
  const mount = joins.find((j) => j.type === 'mount');
  if (mount === undefined) return;
  const target = statSync(mount.path);
  for (const host of ['/proc/self/ns/mnt', '/proc/1/ns/mnt']) {
    const own = statIfPermitted(host);
    if (own !== undefined && own.dev === target.dev && own.ino === target.ino) {
      throw new Error(
        `linux.namespaces: ${mount.path} is the host's mount namespace; to share it, leave the mount namespace out of linux.namespaces`,
      );
    }
  }
}

/** pid 1's namespaces may not be ours to inspect (EACCES); our own always are. */
function statIfPermitted(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/**
 * The exec fifo: the container process blocks opening it for reading until
 * `tsrun start` opens it for writing. Others may read, so that a container
 * process running as any user can open it through its inherited O_PATH fd;
 * no other user can reach it, as the state root is 0700.
 */
function makeExecFifo(path: string): number {
  if (libc().mkfifo(path, 0o644) !== 0) throw new SyscallError('mkfifo', lastErrno(), path);
  // mkfifo applies the umask; the container process, whatever its uid, must be able to open it.
  chmodSync(path, 0o644);
  const fd = libc().open(path, O.PATH | O.CLOEXEC);
  if (fd < 0) throw new SyscallError('open', lastErrno(), path);
  return fd;
}

/** root.path, relative to the bundle, as a real path (the chain needs it symlink-free). */
function rootfsPath(bundle: string, path: string | undefined): string {
  const configured = resolve(bundle, path ?? 'rootfs');
  try {
    return realpathSync(configured);
  } catch (error) {
    throw new Error(`root.path: ${configured}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; the bundle needs its root filesystem there`);
  }
}

/** systemd socket activation: fds 3.. handed to us are handed on (as runc does). */
function inheritedListenFds(): number {
  const count = Number(process.env.LISTEN_FDS ?? 0);
  const pid = process.env.LISTEN_PID;
  if (!Number.isInteger(count) || count <= 0) return 0;
  return pid === undefined || Number(pid) === process.pid ? count : 0;
}

function withListenEnv(spec: Spec, count: number): Spec {
  const proc = spec.process;
  if (proc === undefined) return spec;
  const env = [...(proc.env ?? []).filter((e) => !/^LISTEN_(FDS|PID)=/.test(e)), `LISTEN_FDS=${count}`, 'LISTEN_PID=1'];
  return { ...spec, process: { ...proc, env } };
}

/**
 * Move the process into its cgroup. An unprivileged caller (rootless) may
 * have no cgroup delegated to it; like runc, it then runs without one,
 * unless the config asks for something only a cgroup can give (device
 * rules, resource limits), which is never silently dropped.
 */
function placeInCgroup(path: string, pid: number, spec: Spec, resources: ResourcePlan): string[] {
  try {
    return joinCgroup(hostKernel, path, pid);
  } catch (error) {
    if (process.geteuid?.() === 0 || !isDenied(error)) throw error;
    if ((spec.linux?.resources?.devices ?? []).length > 0) {
      throw new Error(`${error.message}: linux.resources.devices needs a cgroup, and none is delegated to this user; remove the device rules or delegate a cgroup`);
    }
    const limits = requestedFields(resources.writes);
    if (limits.length > 0) {
      throw new Error(`${error.message}: ${limits.join(', ')} ${limits.length > 1 ? 'need' : 'needs'} a cgroup, and none is delegated to this user; remove the limits or delegate a cgroup`);
    }
    return [];
  }
}
