import { closeSync, openSync, realpathSync, statSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import type { Process, Spec, State } from '../../config/types.js';
import { planCgroup, type CgroupPlacement, type ContainerCgroup, type PlannedCgroup } from '../../linux/cgroups/manager.js';
import { inNamespacesOf, withPidNamespaceOf } from '../../linux/enter-namespaces.js';
import { assertMappableByCaller, writeIdMaps, writeTimeOffsets } from '../../linux/id-maps.js';
import { planInit } from '../../linux/init-plan.js';
import { hostKernel, openChannel, Puppet, SIGKILL } from '../../linux/kernel.js';
import { inInitialUserNamespace } from '../../linux/caller.js';
import { readMountInfo } from '../../linux/mountinfo.js';
import { NAMESPACES, planNamespaces, type NamespacePlan } from '../../linux/namespaces.js';
import { makeExecFifo } from '../../linux/process/exec-fifo.js';
import { findStartProgram, hostPath } from '../../linux/process/find-executable.js';
import { withHome } from '../../linux/process/home-env.js';
import { ignoredAmbient } from '../../linux/process/plan-credentials.js';
import { takePtyMaster } from '../../linux/process/pty-master.js';
import { resolveMountLabel } from '../../linux/process/selinux.js';
import { copyUp } from '../../linux/rootfs/copy-up.js';
import { mountIdsNow, newMountsUnder, unmountAll, type HostMountsOfCreate } from '../../linux/rootfs/host-mounts.js';
import { verifyMasks } from '../../linux/rootfs/verify-masks.js';
import { compileSeccomp } from '../../linux/seccomp/compile-profile.js';
import { sendSeccompListener } from '../../linux/seccomp/send-listener.js';
import { crashPoint } from '../crash-point.js';
import { runHooks } from '../hooks.js';
import { logger } from '../log.js';
import type { CreateOptions } from '../options.js';
import type { InitOfCreate } from '../container/state-store.js';
import { processStartTime } from '../container/status.js';
import { checkReady, setLimits, walkCheckpoints } from './checkpoint-walk.js';
import { alteredSignals, lastCapability } from './host-facts.js';
import { assertOpen } from './preserved-fds.js';
import { processFields } from './process-fields.js';
import { refuseUnsupported } from './unsupported.js';

/** A container whose process waits for `start` (or has failed and been cleaned up). */
export interface LaunchedContainer {
  readonly puppet: Puppet;
  /** The init's start time (ContainerRecord.pidStartTime), read once it was spawned. */
  readonly pidStartTime: number;
  /** Undefined for an unprivileged caller without a delegated cgroup. */
  readonly cgroup: CgroupPlacement | undefined;
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
  readonly onUndo: (undo: () => void | Promise<void>) => void;
  /** Called with the init as soon as it exists: a create killed before its state.json leaves it recorded for delete. */
  readonly onSpawned: (init: InitOfCreate) => void;
  /** Called just before the cgroups are made, and once they are: a create killed before its state.json leaves them recorded for delete. */
  readonly onCgroup: (placement: CgroupPlacement) => void;
  /** A container without a mount namespace: called before clone with the host's mounts, likewise for a delete after a killed create. */
  readonly onHostMounts: (before: HostMountsOfCreate) => void;
  /** A foreground `run`: a terminal may go to tsrun's own stdio instead of a --console-socket. */
  readonly foreground: boolean;
}

/**
 * Plan the container's process, start it, and walk it through its
 * checkpoints, doing from outside everything that can be done from outside
 * and checking what the kernel shows before letting it go on.
 */
export async function launch(o: CreateOptions, ctx: LaunchContext): Promise<LaunchedContainer> {
  const { spec } = ctx;
  const proc = spec.process;
  if (proc === undefined) throw new Error('config.json: /process is missing; create needs one, since start must run it (docs/process.md)');
  refuseUnsupported(spec);
  const fields = processFields(spec, proc, 'init');
  const mountLabel = resolveMountLabel(hostKernel, spec.linux?.mountLabel, (m) => logger.warn(m));
  if (o.consoleSocket !== undefined && proc.terminal !== true) {
    throw new Error('--console-socket: process.terminal is false, so there is no terminal to send; drop the flag (as runc requires)');
  }
  if (proc.terminal === true && o.consoleSocket === undefined && !ctx.foreground) {
    throw new Error('process.terminal: a detached container needs --console-socket to hand its terminal to (or set "terminal": false)');
  }
  const privileged = process.geteuid?.() === 0;
  // Node enters the container's namespaces to run these hooks, and setns(2)
  // wants CAP_SYS_ADMIN in the caller's own user namespace; an unprivileged
  // caller would need a process inside the container's user namespace to run
  // them, as exec has (startContainer hooks use it).
  if (!privileged && (spec.hooks?.createContainer ?? []).length > 0) {
    throw new Error(
      'hooks.createContainer: an unprivileged tsrun cannot run hooks in the container\'s namespaces yet (setns(2) needs CAP_SYS_ADMIN); ' +
        'run tsrun as root, or use a startContainer hook, which runs inside the container',
    );
  }
  const hostNamespace = inInitialUserNamespace();
  // Root of another user namespace (rootless podman) owns no host cgroup: rootless there too.
  const hostRoot = privileged && hostNamespace;
  const cgroups = planCgroup(
    hostKernel,
    { id: o.id, cgroupsPath: spec.linux?.cgroupsPath, resources: spec.linux?.resources, systemd: ctx.systemdCgroup },
    hostRoot,
  );
  for (const note of cgroups.ignored) logger.warn(note);
  const namespaces = planNamespaces(spec);
  refuseHostMountNamespace(namespaces.joins);
  if (namespaces.newUser && !privileged) assertMappableByCaller(spec, process.geteuid?.() ?? 0, process.getegid?.() ?? 0);
  const rootfs = rootfsPath(o.bundle, spec.root?.path);
  // Found by the fuzzer (root.path "//"): pivot_root cannot move the host's own root (EBUSY, naming no field).
  if (rootfs === '/' && namespaces.has('mount')) {
    throw new Error(`root.path: ${spec.root?.path ?? 'rootfs'} is the host's root directory, which a container with its own mount namespace cannot pivot into; give it a root filesystem of its own`);
  }
  const executable = findStartProgram(proc, rootfs, spec.mounts ?? [], o.bundle);
  const ambientIgnored = ignoredAmbient(proc);
  if (ambientIgnored.length > 0) {
    logger.warn(`process.capabilities.ambient: ${ambientIgnored.join(', ')} not raised: an ambient capability must also be permitted and inheritable`);
  }
  const listenFds = inheritedListenFds();
  const preservedFds = o.preserveFds + listenFds;
  assertOpen(preservedFds);
  const processSpec: Spec = { ...spec, process: { ...proc, env: processEnv(spec, proc, listenFds, rootfs, o.bundle) } };

  // Compiled before anything exists: a profile that cannot be honoured fails here.
  const seccomp = spec.linux?.seccomp === undefined ? undefined : compileSeccomp(spec.linux.seccomp);
  const sharesHostMounts = !namespaces.has('mount');
  const mountsBefore = sharesHostMounts ? mountIdsNow() : undefined;
  if (mountsBefore !== undefined) {
    ctx.onHostMounts({ rootfs, before: [...mountsBefore] });
    ctx.onUndo(() => {
      unmountAll(newMountsUnder(rootfs, mountsBefore));
    });
  }
  const fifoFd = makeExecFifo(ctx.fifoPath);
  const joinFds = new Map<string, number>();
  try {
    // A pid namespace is joined by the parent around clone (see cloneInto); the rest by the child.
    for (const join of namespaces.joins) {
      if (join.type !== 'pid') joinFds.set(join.type, openSync(join.path, 'r'));
    }
    const pidJoin = namespaces.joins.find((j) => j.type === 'pid')?.path;
    const channel = openChannel();
    const plan = planInit({
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
      diesWithCaller: ctx.foreground,
      hostMounts: readMountInfo(),
      noPivot: o.noPivot,
      executable,
      privileged,
      inUserNamespace: !hostNamespace,
      ...(o.noNewKeyring ? {} : { sessionKeyring: `_ses.${o.id}` }),
      ...(seccomp === undefined ? {} : { seccomp }),
      ...(fields.appArmor === undefined ? {} : { appArmor: fields.appArmor }),
      ...(fields.selinuxLabel === undefined ? {} : { selinuxLabel: fields.selinuxLabel }),
      ...(mountLabel === undefined ? {} : { mountLabel }),
      ...(cgroups.version === 1 ? { cgroupV1Dirs: cgroups.dirs } : {}),
      ...cgroupV2Bind(cgroups, namespaces, hostRoot),
    });
    crashPoint('create:before-clone');
    const puppet = withPidNamespaceOf(pidJoin, () =>
      Puppet.launch(namespaces.cloneFlags & ~(NAMESPACES.cgroup.flag | NAMESPACES.time.flag), channel, plan.steps),
    );
    const stop = () => {
      puppet.kill(SIGKILL);
      puppet.reap();
    };
    ctx.onUndo(stop);
    const pid = puppet.pid;
    const pidStartTime = processStartTime(pid);
    // The systemd driver: systemd starts the scope with the process in it,
    // while the process waits (and dies with tsrun, so that a scope left
    // empty is one systemd lets go by itself).
    await cgroups.prepare(pid);
    let cgroup: ContainerCgroup | undefined;
    let terminal: number | undefined;

    walkCheckpoints(puppet, plan.checkpoints, {
      spawned() {
        ctx.onSpawned({ pid, pidStartTime });
        if (namespaces.newUser) writeIdMaps(hostKernel, pid, spec, privileged);
        writeTimeOffsets(hostKernel, pid, spec);
        // Recorded before they exist, so that no instant of a SIGKILL leaves
        // them unrecorded: a create refuses a cgroup that exists, so the
        // planned ones are this container's (their new parents are known
        // only after, and recorded then).
        ctx.onCgroup({ version: cgroups.version, dirs: cgroups.dirs, createdParents: [] });
        cgroup = cgroups.create(pid);
        if (cgroup !== undefined) {
          const created = cgroup;
          ctx.onCgroup(created.placement);
          // A cgroup can only be removed once its processes are gone.
          ctx.onUndo(async () => {
            stop();
            await created.destroy();
          });
          cgroups.applyLimits();
        }
        setLimits(pid, proc);
        fields.spawned(pid);
      },
      isolated() {
        // (prestart hooks run at `start`: config.md puts them after the start operation.)
        runHooks('createRuntime', spec.hooks?.createRuntime, ctx.stateFor(pid));
      },
      'copy-up'(occurrence) {
        const planned = plan.copyUps[occurrence];
        if (planned === undefined) throw new Error(`copy-up checkpoint ${occurrence} has no planned tmpcopyup mount`);
        // The chain's mkdirat of the destination: EEXIST means the image has it, so there is something to copy.
        const existed = planned.createdBy === undefined || puppet.errnoOf(planned.createdBy) !== 0;
        copyUp(pid, planned, existed);
      },
      mounted() {
        if (plan.pty !== undefined) {
          const master = takePtyMaster(pid, plan.pty.master, proc.consoleSize);
          terminal = master;
          ctx.onUndo(() => closeSync(master));
        }
        if ((spec.hooks?.createContainer ?? []).length > 0) {
          inNamespacesOf(pid, () => runHooks('createContainer', spec.hooks?.createContainer, ctx.stateFor(pid)));
        }
      },
      'seccomp-listener'() {
        if (plan.seccompListener === undefined || spec.linux?.seccomp === undefined) throw new Error('a seccomp-listener checkpoint without a listener');
        sendSeccompListener(pid, plan.seccompListener, spec.linux.seccomp, ctx.stateFor(pid));
      },
      ready() {
        checkReady(pid, plan, fields);
        verifyMasks(pid, spec.linux?.maskedPaths ?? []);
      },
    });
    const ownMounts = mountsBefore === undefined ? [] : newMountsUnder(rootfs, mountsBefore);
    return {
      puppet,
      pidStartTime,
      cgroup: cgroup?.placement,
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
 * Where a user-namespaced container cannot mount cgroup2, its "cgroup" mount
 * becomes a bind of its own cgroup (plan-mounts.ts, cgroup2Bind), as runc
 * falls back to on EPERM or EBUSY: without a cgroup namespace of its own the
 * mount is EPERM; without a network namespace its /sys is a bind of the
 * host's (sysfs cannot be mounted), which holds the host's cgroup2 at
 * /sys/fs/cgroup, and the same superblock cannot be mounted over its own
 * root (EBUSY). Only on cgroup v2: the v1 view is made of binds anyway.
 */
function cgroupV2Bind(cgroups: Pick<PlannedCgroup, 'version' | 'dirs' | 'bySystemd'>, namespaces: NamespacePlan, hostRoot: boolean): { cgroupV2Bind?: string } {
  const dir = cgroups.dirs[''];
  if (cgroups.version !== 2 || dir === undefined || !namespaces.has('user')) return {};
  if (namespaces.has('cgroup')) {
    // The bind needs the cgroup to exist, which only root and the systemd driver are sure of
    // when the chain is planned (a rootless caller may be given none: then the mount is tried).
    if (namespaces.has('network') || !(hostRoot || cgroups.bySystemd)) return {};
  }
  return { cgroupV2Bind: dir };
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

/** The environment the container's process execs with: LISTEN_* for handed-on fds, HOME when it has none. */
function processEnv(spec: Spec, proc: Process, listenFds: number, rootfs: string, bundle: string): string[] {
  const env = proc.env ?? [];
  const listen = listenFds > 0 ? [...env.filter((e) => !/^LISTEN_(FDS|PID)=/.test(e)), `LISTEN_FDS=${listenFds}`, 'LISTEN_PID=1'] : env;
  return withHome(listen, proc.user?.uid ?? 0, hostPath('/etc/passwd', rootfs, spec.mounts ?? [], bundle));
}
