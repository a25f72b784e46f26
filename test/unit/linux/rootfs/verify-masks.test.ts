import { afterEach, describe, expect, it, vi } from 'vitest';
import { temporaryDir } from '../fixtures.js';

// verify-masks.ts reads /proc/<pid>/mountinfo and lstat()s /proc/<pid>/root<path>.
// For FAKE_PID both come from `fake`; every other path goes to the real fs.
const fake = vi.hoisted(() => ({
  pid: 4242,
  mountinfo: '',
  /** Container paths that exist under /proc/<FAKE_PID>/root. */
  existing: new Set<string>(),
  reads: [] as string[],
  lstats: [] as string[],
}));
const FAKE_PID = fake.pid;

vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  const prefix = `/proc/${fake.pid}/`;
  const readFileSync = ((path: unknown, ...rest: unknown[]) => {
    if (typeof path === 'string' && path.startsWith(prefix)) {
      fake.reads.push(path);
      if (path === `${prefix}mountinfo`) return fake.mountinfo;
      throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    }
    return (actual.readFileSync as (...args: unknown[]) => unknown)(path, ...rest);
  }) as typeof actual.readFileSync;
  const lstatSync = ((path: unknown, ...rest: unknown[]) => {
    if (typeof path === 'string' && path.startsWith(prefix)) {
      fake.lstats.push(path);
      const inside = path.slice(`${prefix}root`.length);
      if (fake.existing.has(inside)) return actual.lstatSync('/');
      throw Object.assign(new Error(`ENOENT: no such file or directory, lstat '${path}'`), { code: 'ENOENT' });
    }
    return (actual.lstatSync as (...args: unknown[]) => unknown)(path, ...rest);
  }) as typeof actual.lstatSync;
  return { ...actual, readFileSync, lstatSync, default: { ...actual, readFileSync, lstatSync } };
});

const { verifyMasks } = await import('../../../../src/linux/rootfs/verify-masks.js');

/** A container mountinfo with these mount points (paths escaped the way the kernel does). */
function container(mountPoints: readonly string[], existing: readonly string[]): void {
  fake.mountinfo = ['/', ...mountPoints]
    .map((point, i) => `${200 + i} ${i === 0 ? 1 : 200} 0:${40 + i} / ${point.replace(/ /g, '\\040')} rw,relatime - tmpfs tmpfs rw`)
    .join('\n');
  fake.existing = new Set(existing);
}

afterEach(() => {
  fake.mountinfo = '';
  fake.existing = new Set();
  fake.reads = [];
  fake.lstats = [];
});

describe('verifyMasks', () => {
  it('passes when every masked path that exists is a mount point in the container', () => {
    container(['/proc', '/proc/kcore', '/sys/firmware'], ['/proc/kcore', '/sys/firmware']);
    expect(() => verifyMasks(FAKE_PID, ['/proc/kcore', '/sys/firmware'])).not.toThrow();
    // The container's own view: its mountinfo and its root, by pid.
    expect(fake.reads).toEqual([`/proc/${FAKE_PID}/mountinfo`]);
    expect(fake.lstats).toEqual([`/proc/${FAKE_PID}/root/proc/kcore`, `/proc/${FAKE_PID}/root/sys/firmware`]);
  });

  it('accepts a masked path that does not exist in the container (nothing to mask)', () => {
    container(['/proc', '/proc/kcore'], ['/proc/kcore']);
    expect(() => verifyMasks(FAKE_PID, ['/proc/kcore', '/proc/timer_list', '/sys/firmware'])).not.toThrow();
    expect(() => verifyMasks(FAKE_PID, [])).not.toThrow();
  });

  it('refuses masked paths that exist but are not mount points, naming each of them in config order', () => {
    container(['/proc', '/proc/keys'], ['/proc/kcore', '/proc/keys', '/sys/firmware']);
    expect(() => verifyMasks(FAKE_PID, ['/sys/firmware', '/proc/keys', '/proc/kcore', '/proc/missing'])).toThrow(
      new Error('linux.maskedPaths: could not mask /sys/firmware, /proc/kcore, which the container has'),
    );
  });

  it('needs the path itself to be a mount point: a mount above it or next to it does not count', () => {
    container(['/proc', '/proc/kcore2', '/proc/kcore/x'], ['/proc/kcore']);
    expect(() => verifyMasks(FAKE_PID, ['/proc/kcore'])).toThrow(
      new Error('linux.maskedPaths: could not mask /proc/kcore, which the container has'),
    );
  });

  it('reads mount points with their mountinfo escapes decoded', () => {
    container(['/proc', '/srv/a b'], ['/srv/a b']);
    expect(() => verifyMasks(FAKE_PID, ['/srv/a b'])).not.toThrow();
    container(['/proc'], ['/srv/a b']);
    expect(() => verifyMasks(FAKE_PID, ['/srv/a b'])).toThrow('linux.maskedPaths: could not mask /srv/a b, which the container has');
  });

  it('against a real process (this one, whose root is the host\'s /): /proc is a mount point, a fresh directory is not', () => {
    const dir = temporaryDir();
    expect(() => verifyMasks(process.pid, ['/proc', `${dir}/missing`])).not.toThrow();
    expect(() => verifyMasks(process.pid, ['/proc', dir])).toThrow(`linux.maskedPaths: could not mask ${dir}, which the container has`);
  });
});
