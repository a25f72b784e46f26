import { describe, expect, it } from 'vitest';
import { ChainBuffer, ChainBufferOffset, type ChainStep } from '../../../../ffi/chain-step.js';
import { ChainWriter } from '../../../../src/linux/chain-writer.js';
import { FdTable } from '../../../../src/linux/fd-table.js';
import { MissingExecutableError } from '../../../../src/linux/process/find-executable.js';
import { planExec, type ExecPlan } from '../../../../src/linux/process/plan-exec.js';
import { CHANNEL, FIFO_FD } from '../fixtures.js';
import { callSteps, mustFind, render, replayFds } from '../steps.js';

const CHAIN_FDS = [CHANNEL.syncRead, CHANNEL.reportWrite];

/**
 * planExec over the fd table init-plan leaves it: stdio, the preserved fds,
 * the fifo and the chain pipes inherited, and the host's /proc/self/fd the
 * first fd the chain opened (so the lowest free one, 3 + preservedFds).
 */
function plan(overrides: Partial<Omit<ExecPlan, 'startGate'>> = {}, diesWithCaller = false) {
  const preservedFds = overrides.preservedFds ?? 0;
  const preserved = Array.from({ length: preservedFds }, (_, i) => 3 + i);
  const fds = new FdTable([0, 1, 2, ...preserved, FIFO_FD, ...CHAIN_FDS]);
  const procFdDir = fds.open();
  const exec: ExecPlan = {
    program: { path: '/bin/sh' },
    args: ['/bin/sh', '-c', 'true'],
    env: ['PATH=/bin'],
    preservedFds: 0,
    startGate: { fifoFd: FIFO_FD, procFdDir, diesWithCaller },
    signalsToReset: [],
    ...overrides,
  };
  const w = new ChainWriter(fds);
  planExec(exec, w, fds);
  return { steps: w.steps, lines: render(w.steps), fds, procFdDir };
}

/** The NUL-terminated string at `offset` in `bytes` (an error if it runs off the end). */
function cStringAt(bytes: Buffer, offset: number): string {
  const end = bytes.indexOf(0, offset);
  if (end < 0) throw new Error(`no NUL after offset ${offset}`);
  return bytes.subarray(offset, end).toString('latin1');
}

/** What the container process has open when planExec's steps start (the chain closed everything else at its start). */
function inheritedAtExec(preserved: number, procFdDir: number): Map<number, string> {
  const fds = new Map<number, string>([
    [0, 'stdin'],
    [1, 'stdout'],
    [2, 'stderr'],
    [procFdDir, '/proc/self/fd'],
    [FIFO_FD, 'exec fifo'],
    [CHANNEL.syncRead, 'sync read'],
    [CHANNEL.reportWrite, 'report write'],
  ]);
  for (let i = 0; i < preserved; i += 1) fds.set(3 + i, `preserved ${3 + i}`);
  return fds;
}

describe('planExec', () => {
  it('plans the tail of the chain: keep stdio, reset signals, unblock signals, ready, clear pdeathsig, wait on the fifo, execve', () => {
    const { lines, procFdDir } = plan({ signalsToReset: [13, 15] });
    expect(procFdDir).toBe(3);
    expect(lines).toEqual([
      'fcntl(0, F_SETFD, 0) ?report tolerate=EBADF',
      'fcntl(1, F_SETFD, 0) ?report tolerate=EBADF',
      'fcntl(2, F_SETFD, 0) ?report tolerate=EBADF',
      'signal(13, 0)',
      'signal(15, 0)',
      'unblock-signals',
      'checkpoint ready',
      'prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0)',
      'openat(3, "17", O_RDONLY|O_CLOEXEC)',
      'read(4, &buf"\\u0000\\u0000bin/sh\\u0000"+1, 1)',
      'close(4)',
      'close(17)',
      'close(3)',
      'execve(&buf"\\u0000\\u0000bin/sh\\u0000"+1, ["/bin/sh", "-c", "true"], ["PATH=/bin"])',
      'signal(13, 1)',
      'report errno (execve /bin/sh)',
      'syscall(SYS_exit_group, 127)',
    ]);
  });

  it('with releaseMemory, gives back its copy of Node after "ready" and right before the wait (the contexts up to there are done)', () => {
    const fds = new FdTable([0, 1, 2, FIFO_FD, ...CHAIN_FDS]);
    const procFdDir = fds.open();
    const w = new ChainWriter(fds);
    planExec({ program: { path: '/bin/sh' }, args: ['/bin/sh'], env: [], preservedFds: 0, signalsToReset: [], startGate: { fifoFd: FIFO_FD, procFdDir, releaseMemory: true } }, w, fds);
    const lines = render(w.steps);
    const release = mustFind(lines, 'release-memory');
    expect(lines.slice(release - 2, release + 2)).toEqual(['checkpoint ready', 'prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0)', 'release-memory', 'openat(3, "17", O_RDONLY|O_CLOEXEC)']);
    expect(lines.filter((l) => l === 'release-memory')).toHaveLength(1);
  });

  it('keeps fds 0..2 and the preserved ones, made non-CLOEXEC (a preserved fd that is missing is an error)', () => {
    const { lines } = plan({ preservedFds: 2 });
    expect(lines.slice(0, 7)).toEqual([
      'fcntl(0, F_SETFD, 0) ?report tolerate=EBADF',
      'fcntl(1, F_SETFD, 0) ?report tolerate=EBADF',
      'fcntl(2, F_SETFD, 0) ?report tolerate=EBADF',
      'fcntl(3, F_SETFD, 0) ?report',
      'fcntl(4, F_SETFD, 0) ?report',
      'unblock-signals',
      'checkpoint ready',
    ]);
  });

  it('closes nothing itself (a seccomp filter may forbid close_range), and reads the fifo through the fd it opened', () => {
    for (const preserved of [0, 2]) {
      const { steps, lines, procFdDir } = plan({ preservedFds: preserved });
      expect(procFdDir).toBe(3 + preserved);
      expect(lines.filter((l) => l.startsWith('close_range'))).toEqual([]);
      const replay = replayFds(steps, inheritedAtExec(preserved, procFdDir));
      expect(replay.problems).toEqual([]);
      const atReady = replay.before[steps.findIndex((s) => s.kind === 'checkpoint')];
      expect([...(atReady?.keys() ?? [])].sort((a, b) => a - b)).toEqual([
        0,
        1,
        2,
        ...Array.from({ length: preserved }, (_, i) => 3 + i),
        procFdDir,
        FIFO_FD,
        18,
        21,
      ]);
      // The fifo is reopened by its number in the host's /proc/self/fd dir, the one fd that names it.
      const openat = steps.findIndex((s) => s.kind === 'call' && s.fn === 'openat');
      expect(replay.uses[openat]).toEqual([
        { fd: procFdDir, what: '/proc/self/fd' },
        { fd: FIFO_FD, what: 'exec fifo' },
      ]);
      expect(replay.opened.get(openat)).toBe(4 + preserved);
      const read = steps.findIndex((s) => s.kind === 'call' && s.fn === 'read');
      expect(replay.uses[read]).toEqual([{ fd: 4 + preserved, what: `${FIFO_FD} (in /proc/self/fd)` }]);
      // Only the container's fds and the close-on-exec chain pipes are left at execve.
      const execve = steps.findIndex((s) => s.kind === 'call' && s.fn === 'execve');
      expect([...(replay.before[execve]?.keys() ?? [])].sort((a, b) => a - b)).toEqual([0, 1, 2, ...Array.from({ length: preserved }, (_, i) => 3 + i), 18, 21]);
    }
  });

  it('starts the executable path (at offset 1 of its buffer) with a NUL byte that the one-byte fifo read replaces', () => {
    const { steps } = plan({ program: { path: '/usr/local/bin/app' }, args: ['app'] });
    const read = callSteps(steps, 'read')[0];
    const execve = callSteps(steps, 'execve')[0];
    const path = execve?.args[0];
    expect(path).toBeInstanceOf(ChainBufferOffset);
    const { buffer, offset } = path as ChainBufferOffset;
    expect(buffer).toBeInstanceOf(ChainBuffer);
    expect(offset).toBe(1);
    // The very same address (one shared buffer, the same offset), and exactly one byte read there.
    const target = read?.args[1];
    expect(target).toBeInstanceOf(ChainBufferOffset);
    expect((target as ChainBufferOffset).buffer).toBe(buffer);
    expect((target as ChainBufferOffset).offset).toBe(offset);
    expect(read?.args[2]).toBe(1);
    const bytes = Buffer.from(buffer.initial);
    // guard[0] is scratch (the late seccomp guard writes there); the path starts at guard[1].
    expect(bytes.toString('latin1')).toBe('\0\0usr/local/bin/app\0');
    expect(cStringAt(bytes, offset)).toBe('');
    // `tsrun start` writes "/": only then is the path the executable's.
    bytes[offset] = '/'.charCodeAt(0);
    expect(cStringAt(bytes, offset)).toBe('/usr/local/bin/app');
    expect(bytes[0]).toBe(0);
  });

  it('clears the parent-death signal after "ready", before waiting for start (the process must outlive tsrun create)', () => {
    const { lines } = plan();
    const ready = mustFind(lines, 'checkpoint ready');
    const clear = mustFind(lines, 'prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0)');
    const fifo = mustFind(lines, 'openat(3, "17", O_RDONLY|O_CLOEXEC)');
    expect(ready).toBeLessThan(clear);
    expect(clear).toBeLessThan(fifo);
  });

  it("keeps the parent-death signal for a foreground run's init, which tsrun waits for", () => {
    const { lines } = plan({}, true);
    expect(lines.filter((l) => l.startsWith('prctl(PR_SET_PDEATHSIG'))).toEqual([]);
  });

  it('opens and reads the fifo before execve, and exits 127 after a failed execve', () => {
    const { lines } = plan();
    const open = mustFind(lines, 'openat(3, "17", O_RDONLY|O_CLOEXEC)');
    const read = mustFind(lines, /^read\(/);
    const execve = mustFind(lines, /^execve\(/);
    expect(open).toBeLessThan(read);
    expect(read).toBeLessThan(execve);
    expect(lines.slice(execve + 1)).toEqual(['signal(13, 1)', 'report errno (execve /bin/sh)', 'syscall(SYS_exit_group, 127)']);
  });

  it('without an executable, waits for start like any init, then says why on stderr and exits as a shell would (127 or 126)', () => {
    for (const exitCode of [127, 126] as const) {
      const missing = new MissingExecutableError('process.args[0]: exec: "nosuch": executable file not found in $PATH (/bin)', exitCode);
      const { lines } = plan({ program: { missing } });
      const read = mustFind(lines, /^read\(/);
      expect(lines.some((l) => l.startsWith('execve('))).toBe(false);
      expect(lines.slice(read + 1)).toEqual([
        'close(4)',
        'close(17)',
        'close(3)',
        'write(2, "tsrun: process.args[0]: exec: \\"nosuch\\": executable file not found in $PATH (/bin)\\n", 82)',
        `syscall(SYS_exit_group, ${exitCode})`,
      ]);
    }
  });

  it('reports nothing after "ready" but execve\'s errno (the parent reads that one word after start)', () => {
    const { steps } = plan();
    const ready = steps.findIndex((s) => s.kind === 'checkpoint' && s.name === 'ready');
    const after: ChainStep[] = steps.slice(ready + 1);
    expect(after.filter((s) => s.kind === 'checkpoint' || (s.kind === 'call' && s.report !== undefined))).toEqual([]);
    expect(after.filter((s) => s.kind === 'report')).toEqual([{ kind: 'report', what: 'execve /bin/sh' }]);
  });

  it('passes args and env through unchanged', () => {
    const { steps } = plan({ args: ['sh', '-c', 'echo "$A b"'], env: ['A=1', 'B=x y'] });
    expect(callSteps(steps, 'execve')[0]?.args.slice(1)).toEqual([
      ['sh', '-c', 'echo "$A b"'],
      ['A=1', 'B=x y'],
    ]);
  });

  it('refuses a relative executable path', () => {
    expect(() => plan({ program: { path: 'bin/sh' } })).toThrow('the executable path bin/sh must be absolute here');
    expect(() => plan({ program: { path: './sh' } })).toThrow(/must be absolute/);
  });
});
