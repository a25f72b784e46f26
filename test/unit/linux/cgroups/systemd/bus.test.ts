import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { SystemdBus, type DBusBus, type DBusMessage } from '../../../../../src/linux/cgroups/systemd/bus.js';

const JOB_REMOVED = JSON.stringify({ path: '/org/freedesktop/systemd1', interface: 'org.freedesktop.systemd1.Manager', member: 'JobRemoved' });

type Reply = { error: { name: string; message: string } } | { body: unknown[] } | 'silence';

/**
 * A systemd manager as the D-Bus client shows it: each method answers as
 * `answers` says, and a job's JobRemoved signal comes after its reply with
 * `jobResult`, or (null) never.
 */
class FakeSystemd implements DBusBus {
  readonly signals = new EventEmitter();
  readonly connection = Object.assign(new EventEmitter(), { end: () => (this.ended = true) });
  readonly calls: DBusMessage[] = [];
  ended = false;

  constructor(
    private readonly answers: Record<string, Reply>,
    private readonly jobResult: string | null = 'done',
  ) {}

  invoke(message: DBusMessage, callback: (error: { name: string; message: string } | null, ...body: unknown[]) => void): void {
    this.calls.push(message);
    const answer = this.answers[message.member] ?? { body: [] };
    if (answer === 'silence') return;
    setImmediate(() => {
      if ('error' in answer) return callback(answer.error);
      callback(null, ...answer.body);
      const job = answer.body[0];
      if (typeof job === 'string' && this.jobResult !== null) {
        setImmediate(() => this.signals.emit(JOB_REMOVED, [7, job, 'x.scope', this.jobResult]));
      }
    });
  }
}

const JOB = '/org/freedesktop/systemd1/job/7';
const SOCKET = '/run/systemd/private';

describe('the systemd manager client', () => {
  it('subscribes, starts the unit with its properties, and returns once the job is done', async () => {
    const fake = new FakeSystemd({ StartTransientUnit: { body: [JOB] } });
    const bus = await SystemdBus.over(fake, SOCKET);
    await bus.startTransientUnit('tsrun-a.scope', [['PIDs', ['au', [42]]]]);
    bus.close();
    expect(fake.calls.map((c) => c.member)).toEqual(['Subscribe', 'StartTransientUnit']);
    expect(fake.calls[1]).toMatchObject({ destination: 'org.freedesktop.systemd1', signature: 'ssa(sv)a(sa(sv))', body: ['tsrun-a.scope', 'fail', [['PIDs', ['au', [42]]]], []] });
    expect(fake.ended).toBe(true);
  });

  it('a job that ends other than "done" is an error naming the unit and where to look', async () => {
    const bus = await SystemdBus.over(new FakeSystemd({ StartTransientUnit: { body: [JOB] } }, 'failed'), SOCKET);
    await expect(bus.startTransientUnit('tsrun-a.scope', [])).rejects.toThrow('systemd StartTransientUnit tsrun-a.scope: the job ended "failed"; see journalctl -u tsrun-a.scope');
  });

  it('an error reply names the method, systemd\'s words and its error name', async () => {
    const exists = { error: { name: 'org.freedesktop.systemd1.UnitExists', message: 'Unit tsrun-a.scope was already loaded or has a fragment file.' } };
    const bus = await SystemdBus.over(new FakeSystemd({ StartTransientUnit: exists }), SOCKET);
    await expect(bus.startTransientUnit('tsrun-a.scope', [])).rejects.toThrow(
      'systemd StartTransientUnit: Unit tsrun-a.scope was already loaded or has a fragment file. (org.freedesktop.systemd1.UnitExists)',
    );
  });

  it('a method systemd never answers, and a job it never ends, fail after the timeout instead of hanging', async () => {
    await expect(SystemdBus.over(new FakeSystemd({ Subscribe: 'silence' }), SOCKET, 50)).rejects.toThrow('systemd Subscribe: no answer within 50 ms on /run/systemd/private');
    const bus = await SystemdBus.over(new FakeSystemd({ StartTransientUnit: { body: [JOB] } }, null), SOCKET, 50);
    await expect(bus.startTransientUnit('tsrun-a.scope', [])).rejects.toThrow('the job ended "no answer from systemd within 50 ms"');
  });

  it('a lost connection fails the call waiting for its reply', async () => {
    const fake = new FakeSystemd({ StopUnit: 'silence' });
    const bus = await SystemdBus.over(fake, SOCKET);
    const stopping = bus.stopUnit('tsrun-a.scope');
    fake.connection.emit('error', new Error('read ECONNRESET'));
    await expect(stopping).rejects.toThrow("systemd's socket: read ECONNRESET");
  });

  it('stopping a unit systemd no longer has is no error', async () => {
    const gone = { error: { name: 'org.freedesktop.systemd1.NoSuchUnit', message: 'Unit tsrun-a.scope not loaded.' } };
    const bus = await SystemdBus.over(new FakeSystemd({ StopUnit: gone }), SOCKET);
    await expect(bus.stopUnit('tsrun-a.scope')).resolves.toBeUndefined();
  });

  it('sets properties for this boot only', async () => {
    const fake = new FakeSystemd({});
    const bus = await SystemdBus.over(fake, SOCKET);
    await bus.setUnitProperties('tsrun-a.scope', [['MemoryMax', ['t', '1048576']]]);
    expect(fake.calls[1]).toMatchObject({ member: 'SetUnitProperties', signature: 'sba(sv)', body: ['tsrun-a.scope', true, [['MemoryMax', ['t', '1048576']]]] });
  });
});
