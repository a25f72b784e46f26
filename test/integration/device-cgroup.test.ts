import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, constants, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BPF_CGROUP_DEVICE,
  BPF_F_ALLOW_MULTI,
  BPF_PROG_TYPE_CGROUP_DEVICE,
  bpfProgDetach,
  bpfProgGetFdById,
  bpfProgLoad,
  bpfProgQuery,
} from '../../ffi/bpf.js';
import { SyscallError } from '../../ffi/syscall-error.js';
import { applyDeviceRules, attachDeviceProgram } from '../../src/linux/cgroups/v2/device-cgroup.js';
import { compileDeviceProgram } from '../../src/linux/cgroups/v2/device-program.js';
import { ACCESS, ALL_ACCESS, type DeviceRule } from '../../src/linux/cgroups/device-rules.js';
import { readMountInfo } from '../../src/linux/mountinfo.js';

const cgroup2 = readMountInfo().find((m) => m.fsType === 'cgroup2')?.mountPoint;
const skipReason = process.getuid?.() !== 0 ? 'it needs root' : cgroup2 === undefined ? 'no cgroup2 is mounted' : undefined;
if (skipReason !== undefined) console.log(`test/integration/device-cgroup.test.ts skipped: ${skipReason}`);

type Probe =
  | { readonly label: string; readonly kind: 'open'; readonly path: string; readonly flags: 'r' | 'r+' }
  | { readonly label: string; readonly kind: 'mknod'; readonly path: string; readonly major: number; readonly minor: number };

/**
 * Run in a fresh Node process: move itself into the cgroup (argv[1]) before
 * touching any device, then try each probe (argv[2]) and print what the kernel
 * answered: "ok" or the errno name. mknod goes through koffi, as Node has none.
 */
const PROBE_SCRIPT = `
const fs = require('fs');
const { getSystemErrorName } = require('util');
const koffi = require(process.env.TSRUN_KOFFI);
const mknod = koffi.load('libc.so.6').func('int mknod(const char *path, uint32_t mode, uint64_t dev)');
const makedev = (major, minor) => ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12);
const [cgroupDir, probes] = process.argv.slice(1);
fs.writeFileSync(cgroupDir + '/cgroup.procs', String(process.pid));
const result = { cgroup: fs.readFileSync('/proc/self/cgroup', 'utf8').split('\\n').find((l) => l.startsWith('0::')).slice(3) };
for (const probe of JSON.parse(probes)) {
  try {
    if (probe.kind === 'open') fs.closeSync(fs.openSync(probe.path, probe.flags));
    else if (mknod(probe.path, 0o20600, makedev(probe.major, probe.minor)) !== 0) throw { code: getSystemErrorName(-koffi.errno()) };
    result[probe.label] = 'ok';
  } catch (error) {
    result[probe.label] = error.code ?? String(error);
  }
}
process.stdout.write(JSON.stringify(result));
`;

const koffiPath = createRequire(import.meta.url).resolve('koffi');

describe.skipIf(skipReason !== undefined)('device cgroup: a BPF program attached with bpf(2)', () => {
  const root = cgroup2 ?? '';
  const scratch = join(root, `tsrun-test-${randomBytes(4).toString('hex')}`);
  let nodes = '';

  /** A new, empty cgroup under the scratch one. */
  function cgroup(name: string): string {
    const dir = join(scratch, name);
    mkdirSync(dir);
    return dir;
  }

  /** What the kernel answers a process inside `dir`. */
  function probe(dir: string, probes: readonly Probe[]): Record<string, string> {
    const child = spawnSync(process.execPath, ['-e', PROBE_SCRIPT, dir, JSON.stringify(probes)], {
      env: { ...process.env, TSRUN_KOFFI: koffiPath },
      encoding: 'utf8',
      timeout: 60_000, // a safety net against a hung child, not a measurement
    });
    if (child.status !== 0) throw new Error(`probe in ${dir} failed (${child.status ?? child.signal}): ${child.stderr}`);
    const result = JSON.parse(child.stdout) as Record<string, string>;
    expect(result.cgroup, 'the probe ran inside the cgroup').toBe(`/${relative(root, dir)}`);
    return result;
  }

  function withCgroupFd<T>(dir: string, use: (fd: number) => T): T {
    const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      return use(fd);
    } finally {
      closeSync(fd);
    }
  }

  const onlyNullProbes = (): Probe[] => [
    { label: 'open null rw', kind: 'open', path: '/dev/null', flags: 'r+' },
    { label: 'open zero r', kind: 'open', path: '/dev/zero', flags: 'r' },
    { label: 'mknod zero', kind: 'mknod', path: join(nodes, 'zero'), major: 1, minor: 5 },
    { label: 'mknod null', kind: 'mknod', path: join(nodes, 'null'), major: 1, minor: 3 },
  ];

  beforeAll(() => {
    mkdirSync(scratch);
    nodes = mkdtempSync(join(tmpdir(), 'tsrun-devices-'));
  });

  afterAll(() => {
    // Move anything left (a probe that outlived a failure) to our own cgroup, then remove the tree.
    const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3) ?? '/';
    const subdirs = existsSync(scratch) ? readdirSync(scratch, { withFileTypes: true }).filter((e) => e.isDirectory()) : [];
    for (const dir of [...subdirs.map((e) => join(scratch, e.name)), scratch]) {
      if (!existsSync(dir)) continue;
      for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
        writeFileSync(join(root, own, 'cgroup.procs'), pid);
      }
      rmdirSync(dir);
    }
    if (nodes !== '') rmSync(nodes, { recursive: true, force: true });
  });

  it('denies everything but c 1:3 rw, as the kernel enforces it', () => {
    // Control: the same probes in a cgroup without a program all succeed.
    expect(probe(cgroup('control'), onlyNullProbes())).toMatchObject({
      'open null rw': 'ok',
      'open zero r': 'ok',
      'mknod zero': 'ok',
      'mknod null': 'ok',
    });
    rmSync(join(nodes, 'zero'));
    rmSync(join(nodes, 'null'));

    const dir = cgroup('only-null');
    attachDeviceProgram(dir, [
      { allow: false, type: 'a', major: '*', minor: '*', access: ALL_ACCESS },
      { allow: true, type: 'c', major: 1, minor: 3, access: ACCESS.READ | ACCESS.WRITE },
    ]);
    expect(probe(dir, onlyNullProbes())).toMatchObject({
      'open null rw': 'ok',
      'open zero r': 'EPERM',
      'mknod zero': 'EPERM',
      'mknod null': 'EPERM', // the rule grants rw, not m
    });
    expect(existsSync(join(nodes, 'zero'))).toBe(false);
  });

  it('applyDeviceRules adds the default devices to a deny-all config', () => {
    const dir = cgroup('spec');
    applyDeviceRules(dir, [{ allow: false, access: 'rwm' }]);
    const probes: Probe[] = [
      { label: 'open null rw', kind: 'open', path: '/dev/null', flags: 'r+' },
      { label: 'open zero r', kind: 'open', path: '/dev/zero', flags: 'r' },
      { label: 'open urandom r', kind: 'open', path: '/dev/urandom', flags: 'r' },
      { label: 'open kmsg r', kind: 'open', path: '/dev/kmsg', flags: 'r' },
      { label: 'mknod kmsg', kind: 'mknod', path: join(nodes, 'kmsg'), major: 1, minor: 11 },
      { label: 'open own kmsg node r', kind: 'open', path: join(nodes, 'kmsg'), flags: 'r' },
    ];
    expect(probe(dir, probes)).toEqual({
      cgroup: `/${relative(root, dir)}`,
      'open null rw': 'ok',
      'open zero r': 'ok',
      'open urandom r': 'ok',
      'open kmsg r': 'EPERM',
      'mknod kmsg': 'ok', // c *:* m is a default
      'open own kmsg node r': 'EPERM', // ...but the node it made stays closed
    });
  });

  it('decides bit by bit: denying write refuses an O_RDWR open that allow-all would grant', () => {
    const dir = cgroup('no-zero-writes');
    attachDeviceProgram(dir, [
      { allow: true, type: 'a', major: '*', minor: '*', access: ALL_ACCESS },
      { allow: false, type: 'c', major: 1, minor: 5, access: ACCESS.WRITE },
    ]);
    expect(
      probe(dir, [
        { label: 'open zero r', kind: 'open', path: '/dev/zero', flags: 'r' },
        { label: 'open zero rw', kind: 'open', path: '/dev/zero', flags: 'r+' },
        { label: 'open null rw', kind: 'open', path: '/dev/null', flags: 'r+' },
      ]),
    ).toMatchObject({ 'open zero r': 'ok', 'open zero rw': 'EPERM', 'open null rw': 'ok' });
  });

  it("the kernel's verifier accepts every block shape the compiler emits", () => {
    const shapes: DeviceRule[][] = [
      [],
      [{ allow: false, type: 'b', major: '*', minor: '*', access: ACCESS.WRITE }],
      [{ allow: true, type: 'a', major: '*', minor: '*', access: ACCESS.READ }],
      [{ allow: false, type: 'a', major: '*', minor: '*', access: ACCESS.MKNOD | ACCESS.WRITE }],
      [{ allow: true, type: 'c', major: 4095, minor: 0xfffff, access: ALL_ACCESS }],
      [{ allow: false, type: 'b', major: 0, minor: '*', access: ALL_ACCESS }, { allow: true, type: 'c', major: '*', minor: 7, access: ACCESS.READ }],
    ];
    for (const rules of shapes) {
      closeSync(bpfProgLoad({ type: BPF_PROG_TYPE_CGROUP_DEVICE, insns: compileDeviceProgram(rules), license: 'Apache-2.0', name: 'tsrun_shape' }));
    }
  });

  it('lists the attached program, and detaching it lifts the restriction', () => {
    const dir = cgroup('detach');
    applyDeviceRules(dir, undefined);
    const attached = withCgroupFd(dir, (fd) => bpfProgQuery(fd, BPF_CGROUP_DEVICE, dir));
    expect(attached.ids).toHaveLength(1);
    expect(attached.attachFlags).toBe(BPF_F_ALLOW_MULTI);
    const kmsg: Probe[] = [{ label: 'open kmsg r', kind: 'open', path: '/dev/kmsg', flags: 'r' }];
    expect(probe(dir, kmsg)['open kmsg r']).toBe('EPERM');

    const progFd = bpfProgGetFdById(attached.ids[0] ?? -1);
    try {
      withCgroupFd(dir, (fd) => bpfProgDetach(fd, progFd, BPF_CGROUP_DEVICE, dir));
    } finally {
      closeSync(progFd);
    }
    expect(withCgroupFd(dir, (fd) => bpfProgQuery(fd, BPF_CGROUP_DEVICE, dir)).ids).toEqual([]);
    expect(probe(dir, kmsg)['open kmsg r']).toBe('ok');
  });

  it('reports the verifier log when the kernel refuses a program', () => {
    const exitOnly = Buffer.from('9500000000000000', 'hex'); // exit, with R0 never set
    let error: unknown;
    try {
      bpfProgLoad({ type: BPF_PROG_TYPE_CGROUP_DEVICE, insns: exitOnly, license: 'Apache-2.0', name: 'tsrun_bad' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SyscallError);
    expect((error as SyscallError).code).toBe('EACCES');
    expect((error as SyscallError).message).toContain('R0 !read_ok');
  });

  it('refuses a directory that is not a cgroup2 one', () => {
    expect(() => applyDeviceRules(nodes, undefined)).toThrow(/EBADF.*not a cgroup v2 directory/);
  });
});
