import type { Spec, State } from '../../config/types.js';
import { openCgroup, type ContainerCgroup } from '../../linux/cgroups/manager.js';
import { hostKernel } from '../../linux/kernel.js';
import type { ContainerRecord } from './container-record.js';
import { lockContainer } from './lock.js';
import { ociState } from './oci-state.js';
import { ContainerNotFoundError, CorruptStateError, StateStore } from './state-store.js';
import { liveStatus, type LiveStatus } from './status.js';

/** What a command does to a container: each is allowed in some statuses only. */
export type Operation = 'start' | 'exec' | 'kill' | 'pause' | 'resume' | 'update' | 'delete' | 'watch';

/**
 * The statuses each operation accepts, and runc's words when the status is
 * another. runtime.md: start needs created; delete needs stopped (unless
 * forced, which the delete command handles); runc allows pause of a created
 * container and kill of anything not stopped.
 */
const ALLOWED: Readonly<Record<Operation, { readonly statuses: readonly LiveStatus[]; readonly refusal: (status: LiveStatus, id: string) => string }>> = {
  start: {
    statuses: ['created'],
    refusal: (status) => (status === 'stopped' ? 'cannot start a container that has stopped' : `cannot start an already ${status} container`),
  },
  exec: {
    statuses: ['created', 'running'],
    refusal: (status) => (status === 'paused' ? 'cannot exec in a paused container; resume it first' : 'cannot exec in a stopped container'),
  },
  kill: { statuses: ['created', 'running', 'paused'], refusal: () => 'container not running' },
  pause: { statuses: ['created', 'running'], refusal: () => 'container not running' },
  resume: { statuses: ['paused'], refusal: () => 'container not paused' },
  update: { statuses: ['created', 'running', 'paused'], refusal: () => 'container not running' },
  delete: { statuses: ['stopped'], refusal: (status, id) => `cannot delete container ${id} that is not stopped: ${status}` },
  watch: { statuses: ['created', 'running', 'paused'], refusal: (_status, id) => `container with id ${id} is not running` },
};

/**
 * One container as every command sees it: its record from the state store,
 * its live status, its config snapshot, its cgroups and its OCI state.
 * Opened once per command, under the container's lock for commands that
 * change it.
 */
export class Container {
  private constructor(
    readonly store: StateStore,
    readonly record: ContainerRecord,
  ) {}

  /** For commands that only read (state, list, events, ps): no lock, and a container changing underneath is seen as it was. */
  static read(root: string, id: string): Container {
    const store = new StateStore(root);
    return new Container(store, store.read(id));
  }

  /**
   * Open the container holding its lock while `fn` runs, and release it
   * however `fn` ends. A directory without state.json is what an aborted
   * create left (holding the lock, no create is still filling it), and one
   * whose state.json does not parse is treated alike: `aborted`, if given,
   * deals with it under the lock; otherwise it does not exist, or is an error.
   */
  static async locked<T>(
    root: string,
    id: string,
    fn: (container: Container) => T | Promise<T>,
    aborted?: (store: StateStore, problem: ContainerNotFoundError | CorruptStateError) => T | Promise<T>,
  ): Promise<T> {
    const store = new StateStore(root);
    const lock = lockContainer(store, id);
    try {
      let record: ContainerRecord;
      try {
        record = store.read(id);
      } catch (error) {
        if (aborted === undefined || !(error instanceof ContainerNotFoundError || error instanceof CorruptStateError)) throw error;
        // Awaited here: the lock must be held until it is done.
        return await aborted(store, error);
      }
      return await fn(new Container(store, record));
    } finally {
      lock.release();
    }
  }

  get id(): string {
    return this.record.id;
  }

  /** Derived from what the kernel shows now: it is never stored. */
  status(): LiveStatus {
    return liveStatus(this.store, this.record);
  }

  /** The status, if `operation` is allowed in it; else the error runc gives. */
  allow(operation: Operation): LiveStatus {
    const status = this.status();
    const rule = ALLOWED[operation];
    if (!rule.statuses.includes(status)) throw new Error(rule.refusal(status, this.id));
    return status;
  }

  /** The config snapshot taken at create. */
  config(): Spec {
    const spec = this.store.readConfig(this.id);
    if (spec === undefined) throw new Error(`container ${this.id} has no config snapshot in ${this.store.dir(this.id)}; create did not finish`);
    return spec;
  }

  /** The container's cgroups; undefined for one created by a user without a delegated cgroup. */
  cgroup(): ContainerCgroup | undefined {
    return this.record.cgroup === undefined ? undefined : openCgroup(hostKernel, this.record.cgroup);
  }

  /** The cgroups, for an operation that needs them (`what` finishes "so it cannot be ..."). */
  requireCgroup(what: string): ContainerCgroup {
    const cgroup = this.cgroup();
    if (cgroup === undefined) {
      throw new Error(`container ${this.id} has no cgroup (it was created by a user without a delegated cgroup), so it cannot be ${what}`);
    }
    return cgroup;
  }

  state(status: LiveStatus = this.status()): State {
    return ociState(this.record, status);
  }

  save(record: ContainerRecord): Container {
    this.store.write(record);
    return new Container(this.store, record);
  }
}
