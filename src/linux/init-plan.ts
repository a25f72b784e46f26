import { CLONE, MS, O, PR, SIGKILL } from '../../ffi/constants.js';
import type { Spec } from '../config/types.js';
import { ChainWriter } from './chain-writer.js';
import { FdTable, preservedRange } from './fd-table.js';
import { planLoopbackUp } from './loopback.js';
import { checkpointsOf, INIT_CHECKPOINTS, type InitCheckpoint } from './checkpoints.js';
import type { ChainInput, PlannedChain } from './planned-chain.js';
import type { MountInfoEntry } from './mountinfo.js';
import { NAMESPACES, type NamespacePlan } from './namespaces.js';
import { planIdentity } from './plan-identity.js';
import { planAppArmorExec } from './process/apparmor.js';
import { planProcessEnd } from './process/plan-process-end.js';
import { planSessionKeyring } from './process/session-keyring.js';
import { planSelinuxLabel } from './process/selinux.js';
import { planGuards, planNotDumpable } from './process/plan-guards.js';
import { planPersonality } from './process/personality.js';
import { planAttachTerminal, planConsole, planOpenPty } from './process/plan-terminal.js';
import { devIsHostBind, planDevices } from './rootfs/plan-devices.js';
import { planFinish } from './rootfs/plan-finish.js';
import { makePath } from './rootfs/make-path.js';
import type { PlannedCopyUp } from './rootfs/plan-copy-up.js';
import { planMounts } from './rootfs/plan-mounts.js';
import { planPivot } from './rootfs/plan-pivot.js';
import type { RootfsContext } from './rootfs/rootfs-context.js';

/** Everything the planner needs to know that is not in config.json. */
export interface InitPlanInput extends ChainInput {
  readonly spec: Spec;
  readonly bundle: string;
  readonly rootfs: string;
  readonly namespaces: NamespacePlan;
  /** fds (open in the parent, inherited) of namespaces joined by path, by type. */
  readonly joinFds: ReadonlyMap<string, number>;
  readonly fifoFd: number;
  readonly hostMounts: readonly MountInfoEntry[];
  readonly noPivot: boolean;
  /** Whether tsrun runs as root; an unprivileged caller's user namespace has setgroups denied. */
  readonly privileged: boolean;
  /**
   * tsrun itself runs in a user namespace that is not the host's (rootless
   * podman starts it so): the container is in one even when config.json
   * asks for none, and what a user namespace forbids (mknod, a sysfs mount
   * without its own network namespace, dropping a locked mount flag) is
   * forbidden there too.
   */
  readonly inUserNamespace: boolean;
  /** The container id names its session keyring; unset (--no-new-keyring) keeps the caller's. */
  readonly sessionKeyring?: string;
  /** linux.mountLabel, checked against the loaded SELinux policy; undefined without one. */
  readonly mountLabel?: string;
  /** On a cgroup v1 host, the container's planned cgroup directories (see RootfsContext). */
  readonly cgroupV1Dirs?: Readonly<Record<string, string>>;
  /** See RootfsContext.cgroupV2Bind. */
  readonly cgroupV2Bind?: string;
  /**
   * A foreground `run`: the process keeps dying with tsrun (PR_SET_PDEATHSIG)
   * after start, so that a SIGKILLed `run` leaves no container running.
   */
  readonly diesWithCaller: boolean;
}

export type InitPlan = PlannedChain<InitCheckpoint> & {
  /** The "tmpcopyup" mounts, in order: the parent copies each at its "copy-up" checkpoint. */
  readonly copyUps: readonly PlannedCopyUp[];
};

/**
 * The container process's whole life before execve, as chain steps. The
 * parent meets it at these checkpoints:
 * - "spawned": nothing done yet; the parent writes id maps, time offsets,
 *   joins the cgroup, sets rlimits and oom_score_adj.
 * - "isolated": namespaces entered and "/" made a slave of the host, so no
 *   mount from here on can reach the host.
 * - "copy-up" (one per "tmpcopyup" tmpfs, right after it is mounted): the
 *   parent copies the directory it covers into it.
 * - "mounted": every mount and device in place, not pivoted yet
 *   (createContainer hooks run here; the parent takes the pty master).
 * - "ready": pivoted, identity and credentials set; the parent checks
 *   /proc/<pid>/status before the process waits for `tsrun start`.
 */
export function planInit(input: InitPlanInput): InitPlan {
  const { spec, channel } = input;
  const proc = spec.process;
  if (proc === undefined) throw new Error('config.json: /process is missing; create needs one, since start must run it (docs/process.md)');
  // Without a mount namespace of its own the container shares the host's:
  // its mounts are made there (and taken down by delete), and it gets a
  // chroot, since pivot_root would move the host's root.
  const hostMountNamespace = !input.namespaces.has('mount');
  if (hostMountNamespace && ((spec.linux?.maskedPaths ?? []).length > 0 || (spec.linux?.readonlyPaths ?? []).length > 0)) {
    throw new Error(
      'linux.maskedPaths/readonlyPaths: masking paths needs a private mount namespace (add {"type": "mount"} to linux.namespaces), as in runc',
    );
  }
  const chainFds = [channel.syncRead, channel.reportWrite];
  const kept = [0, 1, 2, ...preservedRange(input.preservedFds), input.fifoFd, ...chainFds, ...input.joinFds.values()];
  const fds = new FdTable(kept);
  const w = new ChainWriter(fds);

  const mapsByParent = input.namespaces.newUser && !input.privileged;
  planGuards(w, mapsByParent ? 'dumpable-until-mapped' : 'not-dumpable');
  w.closeInherited(3 + input.preservedFds, kept);
  planAppArmorExec(w, input.appArmor);
  planSelinuxLabel(w, input.selinuxLabel, input.sessionKeyring !== undefined);
  if (input.namespaces.has('time') && !input.joinFds.has('time')) {
    // CLONE_NEWTIME does not fit clone(2)'s flags; the process enters the
    // new time namespace at execve, after the parent wrote its offsets.
    w.check('unshare(CLONE_NEWTIME)', 'unshare', [CLONE.NEWTIME]);
  }
  w.checkpoint('spawned');
  // The parent copies a tmpcopyup through /proc/<pid>/fd, which an unprivileged caller may
  // only open while the process is dumpable: it turns non-dumpable after its copy-ups.
  const dumpableForCopyUp = mapsByParent && (spec.mounts ?? []).some((m) => (m.options ?? []).includes('tmpcopyup'));
  if (mapsByParent && !dumpableForCopyUp) planNotDumpable(w);

  for (const [type, fd] of input.joinFds) {
    const info = NAMESPACES[type as keyof typeof NAMESPACES];
    w.check(`setns ${type} namespace (linux.namespaces path)`, 'setns', [fd, info.flag]);
    w.close(fd);
  }
  const unshareFlags = input.namespaces.unshareFlags & ~(CLONE.NEWCGROUP | CLONE.NEWTIME);
  if (unshareFlags !== 0) {
    w.check('unshare the new namespaces inside the joined user namespace', 'unshare', [unshareFlags]);
  }
  if (input.namespaces.has('user')) {
    // Become root of the (new or joined) user namespace: files the setup
    // creates must have an owner that is mapped inside it.
    w.sys('setresgid 0 in the user namespace', 'setresgid', [0, 0, 0]);
    w.sys('setresuid 0 in the user namespace', 'setresuid', [0, 0, 0]);
    // A credential change clears the parent-death signal: set it again.
    w.check('prctl(PR_SET_PDEATHSIG, SIGKILL) again', 'prctl', [PR.SET_PDEATHSIG, SIGKILL, 0, 0, 0]);
  }
  if (input.sessionKeyring !== undefined) {
    // A keyring of its own, as runc does: otherwise the container possesses
    // the caller's session keyring and every key in it.
    planSessionKeyring(w, input.sessionKeyring);
  }
  if (input.namespaces.has('cgroup') && !input.joinFds.has('cgroup')) {
    // Created only now, so that its root is the container's own cgroup.
    w.check('unshare(CLONE_NEWCGROUP)', 'unshare', [CLONE.NEWCGROUP]);
  }
  if (input.namespaces.has('network') && !input.joinFds.has('network')) planLoopbackUp(w);
  w.call('umask', [0]);
  if (!hostMountNamespace) {
    w.check('make / a recursive slave of the host', 'mount', [null, '/', null, MS.SLAVE | MS.REC, null]);
  }
  w.checkpoint('isolated');

  // Opened before pivot_root, from the host's procfs: the exec fifo is
  // reopened through it, so nothing the image has at /proc can stand in.
  const procFdDir = w.open('open the host /proc/self/fd', '/proc/self/fd', O.PATH | O.DIRECTORY);
  w.check(`bind the rootfs ${input.rootfs} onto itself`, 'mount', [input.rootfs, input.rootfs, null, MS.BIND | MS.REC, null]);
  const rootFd = w.open(`open the rootfs ${input.rootfs}`, input.rootfs, O.PATH | O.DIRECTORY);
  const user = proc.user ?? {};
  const ctx: RootfsContext = {
    spec,
    bundle: input.bundle,
    rootfs: input.rootfs,
    rootFd,
    userns: input.namespaces.has('user') || input.inUserNamespace,
    newNetwork: input.namespaces.has('network') && !input.joinFds.has('network'),
    owner: { uid: user.uid ?? 0, gid: user.gid ?? 0 },
    hostMounts: input.hostMounts,
    writer: w,
    ...(input.mountLabel === undefined ? {} : { mountLabel: input.mountLabel }),
    ...(input.cgroupV1Dirs === undefined ? {} : { cgroupV1Dirs: input.cgroupV1Dirs }),
    ...(input.cgroupV2Bind === undefined ? {} : { cgroupV2Bind: input.cgroupV2Bind }),
  };
  const copyUps = planMounts(ctx);
  if (dumpableForCopyUp) planNotDumpable(w);
  planDevices(ctx);
  // As runc and crun: a process.cwd the image lacks is made (by the container's root, with
  // every mount in place, so it lands on whatever covers it), before the root can turn read-only.
  makePath(ctx, proc.cwd, false, 'process.cwd');
  const pty = proc.terminal === true ? planOpenPty(w, rootFd) : undefined;
  if (pty !== undefined && !devIsHostBind(spec)) planConsole(w, rootFd, pty.slave);
  w.checkpoint('mounted');
  if (pty !== undefined) w.close(pty.master);

  planPivot(ctx, hostMountNamespace ? 'chroot' : input.noPivot ? 'move' : 'pivot');
  // sysctl writes go through /proc/sys, which the read-only paths lock next.
  planIdentity(spec, w);
  planPersonality(spec.linux?.personality, w);
  planFinish(ctx);
  const setgroupsAllowed = !input.namespaces.newUser || input.privileged;
  if (pty !== undefined) planAttachTerminal(w, pty.slave);
  // Without a terminal too, runc's init leads a session and a process group of its own:
  // the caller's terminal and job control reach tsrun alone, which forwards signals.
  else w.check('setsid (a session of its own, as runc gives its init)', 'setsid', []);
  const end = planProcessEnd(
    {
      proc,
      lastCap: input.lastCap,
      setgroupsAllowed,
      executable: input.executable,
      preservedFds: input.preservedFds,
      signalsToReset: input.signalsToReset,
      startGate: { fifoFd: input.fifoFd, procFdDir, diesWithCaller: input.diesWithCaller },
      ...(input.seccomp === undefined ? {} : { seccomp: input.seccomp }),
    },
    w,
    fds,
  );
  refuseOversizedChain(w.steps.length, spec);
  return { steps: w.steps, checkpoints: checkpointsOf(w.checkpoints, INIT_CHECKPOINTS), copyUps, ...end, ...(pty === undefined ? {} : { pty }) };
}

/**
 * Each step costs tsrun about 55 KiB of native memory (its contexts, each on
 * its own 16 KiB stack, ffi/call-chain.ts), so the lists that become steps (a
 * mount is about four) are what a config can inflate: measured, 4000 mounts
 * took 947 MB, 1000 took 298 MB. 4096 steps keeps a create near 300 MB and
 * leaves room for about 1000 mounts, far more than engines give.
 */
export const MAX_INIT_STEPS = 4096;

function refuseOversizedChain(steps: number, spec: Spec): void {
  if (steps <= MAX_INIT_STEPS) return;
  const lists = [
    ['mounts', spec.mounts?.length],
    ['linux.maskedPaths', spec.linux?.maskedPaths?.length],
    ['linux.readonlyPaths', spec.linux?.readonlyPaths?.length],
    ['linux.devices', spec.linux?.devices?.length],
    ['linux.sysctl', Object.keys(spec.linux?.sysctl ?? {}).length],
  ] as const;
  const counts = lists.filter(([, n]) => (n ?? 0) > 0).map(([name, n]) => `${name}: ${n}`).join(', ');
  throw new Error(`the container's setup is ${steps} libc calls, more than tsrun's limit of ${MAX_INIT_STEPS} (each takes its own stack in memory); shorten the lists that become calls (${counts})`);
}
