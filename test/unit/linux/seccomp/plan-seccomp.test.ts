import { describe, expect, it } from 'vitest';
import { ChainBuffer, ChainBufferOffset, ErrnoLocation, SockFprog, type CallStep, type ChainArg } from '../../../../ffi/chain-step.js';
import { SYS } from '../../../../ffi/syscall-numbers.js';
import type { Spec } from '../../../../src/config/types.js';
import { ChainWriter } from '../../../../src/linux/chain-writer.js';
import { FdTable } from '../../../../src/linux/fd-table.js';
import { planInit } from '../../../../src/linux/init-plan.js';
import { planExec } from '../../../../src/linux/process/plan-exec.js';
import type { CompiledSeccomp } from '../../../../src/linux/seccomp/compile-profile.js';
import { planSeccompEarly, SECCOMP_SET_MODE_FILTER } from '../../../../src/linux/seccomp/plan-seccomp.js';
import { baseSpec, CHANNEL, FIFO_FD, initInput, parentFds } from '../fixtures.js';
import { callSteps, lineIndex, mustFind, render, replayFds } from '../steps.js';

/** Two BPF instructions; the planners only pass them through. */
const PROFILE: CompiledSeccomp = { filter: new Uint8Array(16).fill(7), flags: 1, unknownSyscalls: [], notify: false };

function execTail(lateSeccomp?: CompiledSeccomp) {
  const fds = new FdTable([0, 1, 2, FIFO_FD, CHANNEL.syncRead, CHANNEL.reportWrite]);
  // The host's /proc/self/fd, as init-plan opens it: fd 3.
  const procFdDir = fds.open();
  const w = new ChainWriter(fds);
  planExec(
    { program: { path: '/bin/sh' }, args: ['sh'], env: [], preservedFds: 0, startGate: { fifoFd: FIFO_FD, procFdDir }, signalsToReset: [], ...(lateSeccomp ? { lateSeccomp } : {}) },
    w,
    fds,
  );
  return { steps: w.steps, lines: render(w.steps) };
}

/**
 * The C string execve gets, replayed in JS over the calls from the fifo read
 * on: the read puts the byte `start` writes ("/") at its target, or nothing
 * when the wait failed; memset(&errno, 0, 4) zeroes errno; the raw seccomp
 * leaves `errno` behind (0: it succeeded); strcpy copies the C string at its
 * source, NUL included, to its destination. Every shared buffer and errno
 * are modelled as separate memory, so a step that writes to the wrong one
 * changes nothing execve reads. Any other call that touches that memory is
 * an error: the replay would not know what it does.
 */
function execPath(steps: readonly CallStep[], errno: number, fifoByte: string | undefined): string {
  const errnoBytes = Buffer.alloc(4, 0xaa); // whatever the steps before left there
  const buffers = new Map<ChainBuffer, Buffer>();
  const memory = (arg: ChainArg): { bytes: Buffer; at: number } | undefined => {
    if (arg instanceof ErrnoLocation) return { bytes: errnoBytes, at: 0 };
    const buffer = arg instanceof ChainBufferOffset ? arg.buffer : arg instanceof ChainBuffer ? arg : undefined;
    if (buffer === undefined) return undefined;
    let bytes = buffers.get(buffer);
    if (bytes === undefined) buffers.set(buffer, (bytes = Buffer.from(buffer.initial)));
    return { bytes, at: arg instanceof ChainBufferOffset ? arg.offset : 0 };
  };
  const pointer = (arg: ChainArg, what: string) => {
    const m = memory(arg);
    if (m === undefined) throw new Error(`${what} is not an address the replay knows`);
    return m;
  };
  const cString = ({ bytes, at }: { bytes: Buffer; at: number }) => {
    const end = bytes.indexOf(0, at);
    if (end < 0) throw new Error('a C string runs off the end of its buffer');
    return bytes.subarray(at, end);
  };
  const readAt = steps.findIndex((s) => s.fn === 'read');
  expect(readAt).toBeGreaterThanOrEqual(0);
  for (const step of steps.slice(readAt)) {
    const { fn, args } = step;
    if (fn === 'read') {
      const { bytes, at } = pointer(args[1] ?? null, 'read buffer');
      expect(args[2]).toBe(1);
      if (fifoByte !== undefined) bytes[at] = fifoByte.charCodeAt(0);
    } else if (fn === 'memset') {
      const { bytes, at } = pointer(args[0] ?? null, 'memset destination');
      const [value, length] = [args[1], args[2]] as [number, number];
      if (at + length > bytes.length) throw new Error('memset would overflow');
      bytes.fill(value, at, at + length);
    } else if (fn === 'syscall' && args[0] === SYS.seccomp) {
      if (errno !== 0) errnoBytes.writeInt32LE(errno, 0);
    } else if (fn === 'strcpy') {
      const to = pointer(args[0] ?? null, 'strcpy destination');
      const from = cString(pointer(args[1] ?? null, 'strcpy source'));
      if (to.at + from.length + 1 > to.bytes.length) throw new Error('strcpy would overflow its destination');
      from.copy(to.bytes, to.at);
      to.bytes[to.at + from.length] = 0;
    } else if (fn === 'execve') {
      return cString(pointer(args[0] ?? null, 'execve path')).toString('latin1');
    } else if (args.some((a) => memory(a) !== undefined)) {
      throw new Error(`the replay does not model ${fn}`);
    }
  }
  throw new Error('no execve');
}

describe('planSeccompEarly', () => {
  it('installs the filter with a checked raw seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog)', () => {
    const w = new ChainWriter(new FdTable([0, 1, 2]));
    planSeccompEarly(PROFILE, w);
    expect(render(w.steps)).toEqual(['syscall(SYS_seccomp, 1, 1, sock_fprog{2 insns}) ?report']);
    const [step] = callSteps(w.steps);
    expect(step?.args[0]).toBe(SYS.seccomp);
    expect(SECCOMP_SET_MODE_FILTER).toBe(1);
    expect((step?.args[3] as SockFprog).filter).toBe(PROFILE.filter);
  });

  it('uses the seccomp syscall number of this architecture', () => {
    expect(SYS.seccomp).toBe(process.arch === 'x64' ? 317 : 277);
  });
});

describe('planExec with a late seccomp filter (no_new_privs)', () => {
  it('installs it after the wait for start, unchecked, and execs a path guarded by its errno', () => {
    const { lines } = execTail(PROFILE);
    expect(lines.slice(mustFind(lines, 'checkpoint ready'))).toEqual([
      'checkpoint ready',
      'prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0)',
      'openat(3, "17", O_RDONLY|O_CLOEXEC)',
      'read(4, &buf"\\u0000\\u0000bin/sh\\u0000"+1, 1)',
      'close(4)',
      'close(17)',
      'close(3)',
      'memset(&errno, 0, 4)',
      'syscall(SYS_seccomp, 1, 1, sock_fprog{2 insns})',
      'strcpy(&buf"\\u0000\\u0000bin/sh\\u0000", &errno)',
      'execve(&buf"\\u0000\\u0000bin/sh\\u0000"+1, ["sh"], [])',
      'signal(13, 1)',
      'report errno (execve /bin/sh)',
      'syscall(SYS_exit_group, 127)',
    ]);
    expect(lineIndex(lines, /SYS_seccomp/)).toBeGreaterThan(mustFind(lines, /^read\(/));
  });

  it('guards with one buffer: strcpy writes at its start, the fifo byte and execve\'s path are at offset 1', () => {
    const steps = callSteps(execTail(PROFILE).steps);
    const read = callSteps(steps, 'read')[0]?.args[1];
    const strcpy = callSteps(steps, 'strcpy')[0];
    const execve = callSteps(steps, 'execve')[0]?.args[0];
    expect(strcpy?.args[0]).toBeInstanceOf(ChainBuffer);
    expect(strcpy?.args[1]).toBeInstanceOf(ErrnoLocation);
    const guard = strcpy?.args[0] as ChainBuffer;
    for (const at of [read, execve]) {
      expect(at).toBeInstanceOf(ChainBufferOffset);
      expect((at as ChainBufferOffset).buffer).toBe(guard);
      expect((at as ChainBufferOffset).offset).toBe(1);
    }
    expect(Buffer.from(guard.initial).toString('latin1')).toBe('\0\0bin/sh\0');
    // The old memcpy+strcat guard is gone.
    expect(steps.filter((s) => s.fn === 'memcpy' || s.fn === 'strcat')).toEqual([]);
  });

  it('execs the executable only when both the fifo wait and the install succeeded', () => {
    const steps = callSteps(execTail(PROFILE).steps);
    expect(execPath(steps, 0, '/')).toBe('/bin/sh');
    // A failed install: strcpy writes the errno byte and a NUL over the path's first byte.
    for (let errno = 1; errno < 256; errno += 1) {
      expect(execPath(steps, errno, '/'), `errno ${errno}`).toBe('');
    }
    // A failed wait: nothing to exec, whatever the install did.
    expect(execPath(steps, 0, undefined)).toBe('');
    for (const errno of [1, 12, 22, 255]) expect(execPath(steps, errno, undefined), `errno ${errno}`).toBe('');
  });

  it('reports nothing after "ready" but execve\'s errno', () => {
    const { steps } = execTail(PROFILE);
    const ready = steps.findIndex((s) => s.kind === 'checkpoint' && s.name === 'ready');
    const after = steps.slice(ready + 1);
    expect(after.filter((s) => s.kind === 'checkpoint' || (s.kind === 'call' && s.report !== undefined))).toEqual([]);
    expect(after.filter((s) => s.kind === 'report')).toHaveLength(1);
  });

  it('without a late filter, execs the path buffer the fifo byte completes', () => {
    const { steps } = execTail();
    expect(callSteps(steps).filter((s) => ['memset', 'memcpy', 'strcat', 'strcpy'].includes(s.fn) || s.args[0] === SYS.seccomp)).toEqual([]);
    expect(callSteps(steps, 'execve')[0]?.args[0]).toBe(callSteps(steps, 'read')[0]?.args[1]);
    // Whatever errno is: no install, no guard.
    for (const errno of [0, 1, 22]) expect(execPath(callSteps(steps), errno, '/')).toBe('/bin/sh');
    expect(execPath(callSteps(steps), 0, undefined)).toBe('');
    expect(callSteps(steps).some((s) => s.args.some((a) => a instanceof ErrnoLocation))).toBe(false);
  });
});

describe('planInit with linux.seccomp', () => {
  const spec = (noNewPrivileges: boolean): Spec =>
    baseSpec({ process: { cwd: '/', args: ['/bin/sh'], user: { uid: 1000, gid: 1000 }, noNewPrivileges }, linux: { namespaces: [{ type: 'mount' }], maskedPaths: ['/proc/kcore'] } });

  it('without no_new_privs, installs it (checked) after the rootfs is finished and before dropping capabilities', () => {
    const plan = planInit(initInput(spec(false), { seccomp: PROFILE }));
    const lines = render(plan.steps);
    const seccomp = mustFind(lines, 'syscall(SYS_seccomp, 1, 1, sock_fprog{2 insns}) ?report');
    expect(seccomp).toBeGreaterThan(mustFind(lines, /^mount\("tmpfs", "\/proc\/kcore"/));
    expect(seccomp).toBeLessThan(mustFind(lines, 'prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) ?report'));
    expect(seccomp).toBeLessThan(mustFind(lines, 'checkpoint ready'));
    expect(lines.filter((l) => l.includes('SYS_seccomp'))).toHaveLength(1);
    expect(plan.credentials.seccompBeforeReady).toBe(true);
  });

  it('with no_new_privs, installs it as the last step before execve, after no_new_privs is set', () => {
    const plan = planInit(initInput(spec(true), { seccomp: PROFILE }));
    const lines = render(plan.steps);
    const seccomp = mustFind(lines, 'syscall(SYS_seccomp, 1, 1, sock_fprog{2 insns})');
    expect(seccomp).toBeGreaterThan(mustFind(lines, 'prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ?report'));
    expect(seccomp).toBeGreaterThan(mustFind(lines, 'checkpoint ready'));
    expect(seccomp).toBeLessThan(mustFind(lines, /^execve\(/));
    expect(lines.filter((l) => l.includes('SYS_seccomp'))).toHaveLength(1);
    expect(plan.credentials.seccompBeforeReady).toBe(false);
  });

  it('plans no seccomp step without a profile', () => {
    const plan = planInit(initInput(spec(true)));
    expect(render(plan.steps).filter((l) => l.includes('seccomp') || /^(memset|memcpy|strcat|strcpy)\(/.test(l) || l.includes('&errno'))).toEqual([]);
    expect(plan.credentials.seccompBeforeReady).toBe(false);
  });

  it('keeps the fd predictions right with a filter at either place', () => {
    for (const nnp of [false, true]) {
      const replay = replayFds(planInit(initInput(spec(nnp), { seccomp: PROFILE })).steps, parentFds());
      expect(replay.problems).toEqual([]);
      expect(replay.leaked).toEqual(new Map());
    }
  });
});
