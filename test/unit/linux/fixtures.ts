import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';
import type { ChainChannel } from '../../../ffi/call-chain.js';
import type { Process, Spec } from '../../../src/config/types.js';
import { ChainWriter } from '../../../src/linux/chain-writer.js';
import { FdTable } from '../../../src/linux/fd-table.js';
import type { InitPlanInput } from '../../../src/linux/init-plan.js';
import type { JoinPlanInput } from '../../../src/linux/join-plan.js';
import { parseMountInfo, type MountInfoEntry } from '../../../src/linux/mountinfo.js';
import { planNamespaces } from '../../../src/linux/namespaces.js';
import type { RootfsContext } from '../../../src/linux/rootfs/rootfs-context.js';

const cleanups: Array<() => void> = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** A fresh directory, removed after the test. */
export function temporaryDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-linux-unit-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Create files (content string) and directories (null) under `root`. */
export function layout(root: string, entries: Record<string, string | null>, mode = 0o755): void {
  for (const [path, content] of Object.entries(entries)) {
    const host = join(root, path);
    if (content === null) {
      mkdirSync(host, { recursive: true });
    } else {
      mkdirSync(dirname(host), { recursive: true });
      writeFileSync(host, content, { mode });
    }
  }
}

/** A minimal valid config: new mount and pid namespaces, /bin/sh in "/". */
export function baseSpec(overrides: Partial<Spec> = {}): Spec {
  return {
    ociVersion: '1.2.0',
    root: { path: 'rootfs' },
    process: { cwd: '/', args: ['/bin/sh'], env: ['PATH=/bin'] },
    linux: { namespaces: [{ type: 'mount' }, { type: 'pid' }] },
    ...overrides,
  };
}

/** The fd the tests' RootfsContext gives the rootfs (0-2 are stdio). */
export const ROOT_FD = 3;

/** fd -> description the planner tests start from, for replayFds. */
export const ROOTFS_FDS: ReadonlyMap<number, string> = new Map([
  [0, 'stdin'],
  [1, 'stdout'],
  [2, 'stderr'],
  [ROOT_FD, 'rootfs'],
]);

export interface PlannerHarness {
  readonly ctx: RootfsContext;
  readonly w: ChainWriter;
  readonly fds: FdTable;
}

/** A RootfsContext over a fresh writer whose table holds stdio and the rootfs fd (3). */
export function rootfsHarness(
  spec: Spec,
  options: {
    userns?: boolean;
    newNetwork?: boolean;
    bundle?: string;
    rootfs?: string;
    hostMounts?: readonly MountInfoEntry[];
    owner?: { uid: number; gid: number };
    mountLabel?: string;
    cgroupV1Dirs?: Readonly<Record<string, string>>;
    cgroupV2Bind?: string;
  } = {},
): PlannerHarness {
  const fds = new FdTable([0, 1, 2]);
  const w = new ChainWriter(fds);
  const rootFd = fds.open();
  if (rootFd !== ROOT_FD) throw new Error('fixture: the rootfs fd should be 3');
  const ctx: RootfsContext = {
    spec,
    bundle: options.bundle ?? '/bundles/c1',
    rootfs: options.rootfs ?? '/bundles/c1/rootfs',
    rootFd,
    userns: options.userns ?? false,
    newNetwork: options.newNetwork ?? true,
    owner: options.owner ?? { uid: 0, gid: 0 },
    hostMounts: options.hostMounts ?? [],
    writer: w,
    ...(options.mountLabel === undefined ? {} : { mountLabel: options.mountLabel }),
    ...(options.cgroupV1Dirs === undefined ? {} : { cgroupV1Dirs: options.cgroupV1Dirs }),
    ...(options.cgroupV2Bind === undefined ? {} : { cgroupV2Bind: options.cgroupV2Bind }),
  };
  return { ctx, w, fds };
}

/** mountinfo lines from "mountPoint options" pairs, e.g. ["/ rw,relatime", "/srv ro,nosuid"]. */
export function hostMounts(...mounts: string[]): MountInfoEntry[] {
  return parseMountInfo(
    mounts
      .map((m, i) => {
        const [point, options] = m.split(' ');
        return `${100 + i} 1 8:1 / ${point} ${options} shared:1 - ext4 /dev/sda1 rw`;
      })
      .join('\n'),
  );
}

/** The channel fds the init-plan tests pretend the parent opened. */
export const CHANNEL: ChainChannel = { syncRead: 18, syncWrite: 19, reportRead: 20, reportWrite: 21 };
export const FIFO_FD = 17;

/** The fds a Node parent has open when it clones (0-2, some of its own, the fifo, the pipes). */
export function parentFds(extra: readonly number[] = []): Map<number, string> {
  const fds = new Map<number, string>();
  for (let fd = 0; fd <= 30; fd += 1) fds.set(fd, `node ${fd}`);
  fds.set(0, 'stdin');
  fds.set(1, 'stdout');
  fds.set(2, 'stderr');
  fds.set(FIFO_FD, 'exec fifo');
  fds.set(CHANNEL.syncRead, 'sync read');
  fds.set(CHANNEL.syncWrite, 'sync write (parent end)');
  fds.set(CHANNEL.reportRead, 'report read (parent end)');
  fds.set(CHANNEL.reportWrite, 'report write');
  for (const fd of extra) fds.set(fd, `extra ${fd}`);
  return fds;
}

/** An InitPlanInput for `spec`, with namespaces planned from it. */
export function initInput(spec: Spec, overrides: Partial<InitPlanInput> = {}): InitPlanInput {
  return {
    spec,
    bundle: '/bundles/c1',
    rootfs: '/bundles/c1/rootfs',
    namespaces: planNamespaces(spec),
    joinFds: new Map(),
    fifoFd: FIFO_FD,
    diesWithCaller: false,
    preservedFds: 0,
    channel: CHANNEL,
    lastCap: 40,
    signalsToReset: [],
    hostMounts: [],
    noPivot: false,
    executable: { path: '/bin/sh' },
    privileged: true,
    inUserNamespace: false,
    ...overrides,
  };
}

/** The process of an `exec`, as its planner gets it. */
export const JOIN_PROC: Process = {
  args: ['/bin/sh', '-c', 'true'],
  env: ['PATH=/bin'],
  cwd: '/tmp',
  user: { uid: 1000, gid: 1000 },
  capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },
  noNewPrivileges: true,
};

/** An `exec` into the container's namespaces and its init's root, as the parent opens them (Node hands out fds from 23 here). */
export function joinInput(overrides: Partial<JoinPlanInput> = {}): JoinPlanInput {
  return {
    proc: JOIN_PROC,
    namespaceFds: [
      { type: 'user', fd: 23 },
      { type: 'ipc', fd: 24 },
      { type: 'mount', fd: 25 },
    ],
    rootFd: 26,
    preservedFds: 0,
    channel: CHANNEL,
    lastCap: 40,
    signalsToReset: [],
    executable: { path: '/bin/sh' },
    setgroupsAllowed: true,
    sessionKeyring: '_ses.c1',
    ...overrides,
  };
}
