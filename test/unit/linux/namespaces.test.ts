import { describe, expect, it } from 'vitest';
import { CLONE } from '../../../ffi/constants.js';
import type { LinuxNamespace } from '../../../src/config/types.js';
import { NAMESPACES, planNamespaces } from '../../../src/linux/namespaces.js';
import { baseSpec } from './fixtures.js';

const plan = (namespaces: LinuxNamespace[]) => planNamespaces(baseSpec({ linux: { namespaces } }));

describe('namespace constants', () => {
  it('match the kernel\'s CLONE_NEW* flags and /proc/<pid>/ns names', () => {
    expect(CLONE).toMatchObject({
      NEWTIME: 0x80,
      NEWNS: 0x20000,
      NEWCGROUP: 0x2000000,
      NEWUTS: 0x4000000,
      NEWIPC: 0x8000000,
      NEWUSER: 0x10000000,
      NEWPID: 0x20000000,
      NEWNET: 0x40000000,
    });
    expect(Object.fromEntries(Object.entries(NAMESPACES).map(([type, ns]) => [type, ns.proc]))).toEqual({
      pid: 'pid',
      network: 'net',
      mount: 'mnt',
      ipc: 'ipc',
      uts: 'uts',
      user: 'user',
      cgroup: 'cgroup',
      time: 'time',
    });
  });
});

describe('planNamespaces', () => {
  it('ORs the flag of every namespace created new', () => {
    const p = plan([{ type: 'pid' }, { type: 'network' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }]);
    expect(p.cloneFlags).toBe(CLONE.NEWPID | CLONE.NEWNET | CLONE.NEWNS | CLONE.NEWIPC | CLONE.NEWUTS);
    expect(p.unshareFlags).toBe(0);
    expect(p.joins).toEqual([]);
    expect(p.newUser).toBe(false);
  });

  it('includes user, cgroup and time when created (launch masks the last two out of clone)', () => {
    const p = plan([{ type: 'user' }, { type: 'mount' }, { type: 'cgroup' }, { type: 'time' }]);
    expect(p.cloneFlags).toBe(CLONE.NEWUSER | CLONE.NEWNS | CLONE.NEWCGROUP | CLONE.NEWTIME);
    expect(p.newUser).toBe(true);
  });

  it('treats an empty path as "create"', () => {
    const p = plan([{ type: 'mount', path: '' }, { type: 'uts', path: '' }]);
    expect(p.cloneFlags).toBe(CLONE.NEWNS | CLONE.NEWUTS);
    expect(p.joins).toEqual([]);
  });

  it('says which namespaces are present, created or joined', () => {
    const p = plan([{ type: 'mount' }, { type: 'network', path: '/run/netns/x' }]);
    expect(p.has('mount')).toBe(true);
    expect(p.has('network')).toBe(true);
    expect(p.has('pid')).toBe(false);
    expect(p.has('user')).toBe(false);
  });

  it('orders joins user first and mount last, whatever the config order', () => {
    const p = plan([
      { type: 'pid', path: '/ns/pid' },
      { type: 'mount', path: '/ns/mnt' },
      { type: 'time', path: '/ns/time' },
      { type: 'cgroup', path: '/ns/cgroup' },
      { type: 'network', path: '/ns/net' },
      { type: 'uts', path: '/ns/uts' },
      { type: 'ipc', path: '/ns/ipc' },
      { type: 'user', path: '/ns/user' },
    ]);
    expect(p.cloneFlags).toBe(0);
    expect(p.newUser).toBe(false);
    expect(p.joins).toEqual([
      { type: 'user', path: '/ns/user' },
      { type: 'ipc', path: '/ns/ipc' },
      { type: 'uts', path: '/ns/uts' },
      { type: 'network', path: '/ns/net' },
      { type: 'pid', path: '/ns/pid' },
      { type: 'cgroup', path: '/ns/cgroup' },
      { type: 'time', path: '/ns/time' },
      { type: 'mount', path: '/ns/mnt' },
    ]);
  });

  it('mixes created and joined namespaces', () => {
    const p = plan([{ type: 'mount' }, { type: 'network', path: '/run/netns/a' }, { type: 'pid' }, { type: 'ipc', path: '/proc/9/ns/ipc' }]);
    expect(p.cloneFlags).toBe(CLONE.NEWNS | CLONE.NEWPID);
    expect(p.joins.map((j) => j.type)).toEqual(['ipc', 'network']);
  });

  it('with a user namespace joined by path, creates the other new namespaces by unshare inside it, not by clone', () => {
    const p = plan([{ type: 'user', path: '/proc/1/ns/user' }, { type: 'mount' }, { type: 'uts' }, { type: 'pid', path: '/proc/1/ns/pid' }, { type: 'cgroup' }]);
    expect(p.cloneFlags).toBe(0);
    expect(p.unshareFlags).toBe(CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWCGROUP);
    expect(p.newUser).toBe(false);
    expect(p.has('user')).toBe(true);
    expect(p.joins.map((j) => j.type)).toEqual(['user', 'pid']);
  });

  it('creates namespaces by clone, and none by unshare, otherwise', () => {
    expect(plan([{ type: 'user' }, { type: 'mount' }, { type: 'network', path: '/n' }]).unshareFlags).toBe(0);
  });

  it('refuses a new pid namespace with a joined user namespace, naming linux.namespaces', () => {
    expect(() => plan([{ type: 'user', path: '/proc/1/ns/user' }, { type: 'mount' }, { type: 'pid' }])).toThrow(
      /^linux\.namespaces: a new pid namespace cannot be combined with a user namespace joined by path/,
    );
  });

  it('joins a pid namespace by path, after network and before cgroup', () => {
    const p = plan([{ type: 'mount' }, { type: 'cgroup', path: '/c' }, { type: 'pid', path: '/proc/1/ns/pid' }, { type: 'network', path: '/n' }]);
    expect(p.cloneFlags).toBe(CLONE.NEWNS);
    expect(p.joins.map((j) => j.type)).toEqual(['network', 'pid', 'cgroup']);
  });

  it('refuses an unknown namespace type, naming the entry', () => {
    expect(() => plan([{ type: 'mount' }, { type: 'bogus' as 'pid' }])).toThrow('linux.namespaces[1].type: unknown namespace "bogus"');
  });

  it('has no namespaces without linux.namespaces', () => {
    const p = planNamespaces(baseSpec({ linux: {} }));
    expect(p.cloneFlags).toBe(0);
    expect(p.has('mount')).toBe(false);
  });
});
