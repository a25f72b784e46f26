import type { SystemdInstance } from './manager-instance.js';

/**
 * systemd's manager API over D-Bus, as much of it as the systemd cgroup
 * driver needs: start a transient scope and wait for its job, set a unit's
 * properties, stop a unit.
 *
 * tsrun talks to the manager's private socket, peer to peer, as systemctl
 * does: no bus daemon is needed, and none is asked to route. The D-Bus
 * wire protocol is @homebridge/dbus-native's (docs/cgroups.md says why that
 * library); it is loaded only here, by commands that meet a container
 * placed by systemd.
 */

const DESTINATION = 'org.freedesktop.systemd1';
const MANAGER_PATH = '/org/freedesktop/systemd1';
const MANAGER = 'org.freedesktop.systemd1.Manager';

/** How long a reply or a job may take: systemd starts a scope in milliseconds; runc waits 30 s. */
const TIMEOUT_MS = 30_000;

/** A unit property as D-Bus carries it: its name, and its value with the value's signature. */
export type UnitProperty = readonly [name: string, value: readonly [signature: string, value: unknown]];

/** A D-Bus error reply, with systemd's error name ("org.freedesktop.systemd1.NoSuchUnit"). */
export class SystemdError extends Error {
  constructor(
    readonly method: string,
    readonly dbusName: string,
    message: string,
  ) {
    super(`systemd ${method}: ${message} (${dbusName})`);
  }
}

/** The part of @homebridge/dbus-native's client tsrun uses (exported for the tests' fake). */
export interface DBusMessage {
  readonly path: string;
  readonly destination: string;
  readonly interface: string;
  readonly member: string;
  readonly signature?: string;
  readonly body?: readonly unknown[];
}
export interface DBusBus {
  invoke(message: DBusMessage, callback: (error: { name: string; message: string } | null, ...body: unknown[]) => void): void;
  readonly signals: NodeJS.EventEmitter;
  readonly connection: NodeJS.EventEmitter & { end(): void };
}
interface DBusLibrary {
  createClient(options: { socket: string; direct: true; authMethods: string[] }): DBusBus;
}

/** One connection to systemd, for one command. */
export class SystemdBus {
  /** Jobs systemd reported finished, by object path: "done", "failed", "timeout"... */
  private readonly finished = new Map<string, string>();
  private readonly waiting = new Map<string, (result: string) => void>();
  /** The calls still waiting for their reply: a lost connection fails them. */
  private readonly pending = new Set<(error: Error) => void>();
  private failure: Error | undefined;

  private constructor(
    private readonly bus: DBusBus,
    private readonly socket: string,
    private readonly timeoutMs: number,
  ) {
    bus.signals.on(JSON.stringify({ path: MANAGER_PATH, interface: MANAGER, member: 'JobRemoved' }), (body: unknown[]) => {
      const [, job, , result] = body as [number, string, string, string];
      const waiter = this.waiting.get(job);
      if (waiter === undefined) this.finished.set(job, result);
      else waiter(result);
    });
    bus.connection.on('error', (error: Error) => {
      this.failure = new Error(`systemd's socket: ${error.message}`);
      for (const fail of this.pending) fail(this.failure);
      for (const waiter of this.waiting.values()) waiter('connection-lost');
    });
  }

  static async connect(instance: Pick<SystemdInstance, 'socket' | 'uid'>): Promise<SystemdBus> {
    const library = (await import('@homebridge/dbus-native')).default as unknown as DBusLibrary;
    // EXTERNAL: systemd compares the uid the client names with the socket's
    // peer credentials. The library names getuid(), which is 0 for root of
    // rootless podman's user namespace: it must name the uid systemd sees,
    // and reads it while the client is made.
    const getuid = process.getuid;
    process.getuid = () => instance.uid;
    let bus: DBusBus;
    try {
      bus = library.createClient({ socket: instance.socket, direct: true, authMethods: ['EXTERNAL'] });
    } finally {
      process.getuid = getuid;
    }
    return SystemdBus.over(bus, instance.socket);
  }

  /** Over a connected client (the tests give a fake one, and a short timeout). */
  static async over(bus: DBusBus, socket: string, timeoutMs = TIMEOUT_MS): Promise<SystemdBus> {
    const systemd = new SystemdBus(bus, socket, timeoutMs);
    // Job signals are sent to subscribed clients only.
    await systemd.call('Subscribe', '', []);
    return systemd;
  }

  /**
   * StartTransientUnit, then wait for its job: the unit runs once the job
   * is "done". `mode` "fail": a unit of that name that exists already is an
   * error, never replaced.
   */
  async startTransientUnit(name: string, properties: readonly UnitProperty[]): Promise<void> {
    const [job] = (await this.call('StartTransientUnit', 'ssa(sv)a(sa(sv))', [name, 'fail', properties, []])) as [string];
    const result = await this.jobResult(job);
    if (result !== 'done') {
      throw new Error(`systemd StartTransientUnit ${name}: the job ended "${result}"${this.failure === undefined ? '' : ` (${this.failure.message})`}; see journalctl -u ${name}`);
    }
  }

  /** SetUnitProperties, at run time only (`systemctl set-property --runtime`): the unit is transient anyway. */
  async setUnitProperties(name: string, properties: readonly UnitProperty[]): Promise<void> {
    await this.call('SetUnitProperties', 'sba(sv)', [name, true, properties]);
  }

  /** StopUnit; a unit systemd no longer has (a scope whose processes are gone) is already stopped. */
  async stopUnit(name: string): Promise<void> {
    let job: string;
    try {
      [job] = (await this.call('StopUnit', 'ss', [name, 'replace'])) as [string];
    } catch (error) {
      if (error instanceof SystemdError && error.dbusName === 'org.freedesktop.systemd1.NoSuchUnit') return;
      throw error;
    }
    const result = await this.jobResult(job);
    if (result !== 'done') throw new Error(`systemd StopUnit ${name}: the job ended "${result}"`);
  }

  close(): void {
    this.bus.connection.end();
  }

  private jobResult(job: string): Promise<string> {
    const known = this.finished.get(job);
    if (known !== undefined) return Promise.resolve(known);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(`no answer from systemd within ${this.timeoutMs} ms`), this.timeoutMs);
      this.waiting.set(job, (result) => {
        clearTimeout(timer);
        this.waiting.delete(job);
        resolve(result);
      });
    });
  }

  private call(member: string, signature: string, body: readonly unknown[]): Promise<unknown[]> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const fail = (error: Error) => {
        clearTimeout(timer);
        this.pending.delete(fail);
        reject(error);
      };
      const timer = setTimeout(() => fail(new Error(`systemd ${member}: no answer within ${this.timeoutMs} ms on ${this.socket}`)), this.timeoutMs);
      this.pending.add(fail);
      const message: DBusMessage = { path: MANAGER_PATH, destination: DESTINATION, interface: MANAGER, member, ...(signature === '' ? {} : { signature, body }) };
      this.bus.invoke(message, (error, ...reply) => {
        if (error !== null) return fail(new SystemdError(member, error.name, error.message));
        clearTimeout(timer);
        this.pending.delete(fail);
        resolve(reply);
      });
    });
  }
}
