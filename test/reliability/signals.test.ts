import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORWARDED } from '../../src/runtime/process/foreground.js';
import { SIGRTMAX, SIGRTMIN } from '../../src/runtime/signals.js';
import { sandbox, shell, skipReason, tsrunBin, type Sandbox } from '../integration/support/harness.js';
import { recordCounts } from './support/counts.js';
import { cgroupDirs, leftovers } from './support/tsrun.js';

const skip = skipReason();
if (skip !== undefined) console.warn(`skipping the signal-forwarding tests: ${skip}`);

// The signals sent: each one Node names, then the real-time ones (34-64), which
// tsrun catches through its C helper (ffi/native/signal-relay.c). busybox's
// trap takes names without "SIG", and numbers.
const REALTIME = Array.from({ length: SIGRTMAX - SIGRTMIN + 1 }, (_, i) => SIGRTMIN + i);
const SENT: ReadonlyArray<NodeJS.Signals | number> = [...FORWARDED, ...REALTIME];
const trapName = (signal: NodeJS.Signals | number) => (typeof signal === 'number' ? String(signal) : signal.slice(3));

/** A shell script that prints "got <signal>" for each one sent, ends with 3 on SIGTERM, and says "ready" once set up. */
function trapEverySignal(): string {
  const traps = SENT.filter((sig) => sig !== 'SIGTERM').map((sig) => `trap 'echo got ${sig}' ${trapName(sig)}`);
  return `${traps.join('; ')}; trap 'echo got SIGTERM; exit 3' TERM; echo ready; while :; do sleep 0.05; done`;
}

/** Polls until condition holds; false after ms. */
async function until(condition: () => boolean, ms = 10_000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 25))) {
    if (condition()) return true;
  }
  return condition();
}

describe.skipIf(skip !== undefined)('a foreground run passes signals on (real namespaces)', () => {
  let s: Sandbox;
  beforeAll(() => {
    s = sandbox();
  });
  afterAll(() => s.cleanup());

  /**
   * Sends each signal tsrun forwards to `command` (a foreground run or exec of
   * a shell that traps them all and prints each by name; SIGTERM, sent last,
   * ends it with 3) and returns the ones that did not arrive and the exit code.
   */
  async function sendEach(name: string, command: string[]): Promise<{ missing: string[]; code: number | null; output: string }> {
    const out = join(s.dir, `${name}.out`);
    const fd = openSync(out, 'w+');
    const child = spawn(tsrunBin, ['--root', s.root, ...command], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const output = () => readFileSync(out, 'utf8');
    expect(await until(() => output().includes('ready'))).toBe(true);
    const missing: string[] = [];
    for (const signal of SENT.filter((sig) => sig !== 'SIGTERM')) {
      // (ChildProcess.kill refuses numbers Node has no name for.)
      process.kill(child.pid as number, signal);
      if (!(await until(() => output().includes(`got ${signal}\n`), 3000))) missing.push(String(signal));
    }
    child.kill('SIGTERM');
    return { missing, code: await exited, output: output() };
  }

  it(`each of the ${SENT.length} forwarded signals (${REALTIME.length} of them real-time) reaches the container's process, which then exits with its own code`, async () => {
    const started = Date.now();
    const bundle = s.bundle('fwd', (c) => shell(c, trapEverySignal()));
    const { missing, code, output } = await sendEach('fwd', ['run', '--bundle', bundle, 'fwd']);
    // run deletes the container once its process exits: nothing may stay.
    const left = leftovers({ root: s.root, sandbox: s.dir, cgroups: new Map(cgroupDirs('fwd', undefined).map((d) => [d, false])) });
    recordCounts({
      test: 'signal forwarding (run)',
      cases: SENT.length,
      failures: missing.length + (code === 3 ? 0 : 1),
      leftovers: left.length,
      note: `each signal tsrun forwards, the ${REALTIME.length} real-time ones included, sent to a foreground run, the first right after the container printed "ready"; ${missing.length === 0 ? 'all' : `all but ${missing.join(', ')}`} trapped inside; exit ${code}, the process's own; ${((Date.now() - started) / 1000).toFixed(1)} s`,
    });
    expect(code).toBe(3);
    expect(missing).toEqual([]);
    expect(output).toContain('got SIGTERM');
    expect(left).toEqual([]);
  }, 180_000);

  it(`each of the ${SENT.length} forwarded signals reaches a foreground exec's process, which then exits with its own code`, async () => {
    const started = Date.now();
    s.running('fwd-exec');
    const { missing, code, output } = await sendEach('fwd-exec', ['exec', 'fwd-exec', 'sh', '-c', trapEverySignal()]);
    recordCounts({
      test: 'signal forwarding (exec)',
      cases: SENT.length,
      failures: missing.length + (code === 3 ? 0 : 1),
      leftovers: 0,
      note: `the same signals sent to a foreground exec; ${missing.length === 0 ? 'all' : `all but ${missing.join(', ')}`} trapped by the exec'd shell; exit ${code}, its own; ${((Date.now() - started) / 1000).toFixed(1)} s`,
    });
    expect(code).toBe(3);
    expect(missing).toEqual([]);
    expect(output).toContain('got SIGTERM');
    expect(s.tsrun(['delete', '--force', 'fwd-exec']).status).toBe(0);
  }, 180_000);

  it('a process that a forwarded signal kills makes run exit with 128+n', async () => {
    // Without a pid namespace the process is not an init, so SIGTERM's default action applies.
    const bundle = s.bundle('term', (c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
      shell(c, 'echo ready; exec sleep 1000');
    });
    const out = join(s.dir, 'term.out');
    const fd = openSync(out, 'w+');
    const run = spawn(tsrunBin, ['--root', s.root, 'run', '--bundle', bundle, 'term'], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const exited = new Promise<number | null>((resolve) => run.on('exit', (code) => resolve(code)));
    expect(await until(() => readFileSync(out, 'utf8').includes('ready'))).toBe(true);
    // "ready" is printed before the exec: wait until sleep is the process.
    const pid = s.pid('term');
    expect(await until(() => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep')).toBe(true);
    run.kill('SIGUSR2');
    expect(await exited).toBe(128 + constants.signals.SIGUSR2);
  }, 60_000);

  it('a SIGKILLed foreground run takes its container with it; a detached one does not wait, so its container stays', async () => {
    const bundle = s.bundle('orphan', (c) => shell(c, 'echo ready; exec sleep 1000'));
    const out = join(s.dir, 'orphan.out');
    const fd = openSync(out, 'w+');
    const run = spawn(tsrunBin, ['--root', s.root, 'run', '--bundle', bundle, 'orphan'], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const exited = new Promise<void>((resolve) => run.on('exit', () => resolve()));
    expect(await until(() => readFileSync(out, 'utf8').includes('ready'))).toBe(true);
    const pid = s.pid('orphan');
    run.kill('SIGKILL');
    await exited;
    // The kernel's parent-death signal, kept for a foreground run's init, kills it.
    expect(await until(() => !existsSync(`/proc/${pid}`))).toBe(true);
    expect(JSON.parse(s.tsrun(['state', 'orphan']).stdout).status).toBe('stopped');
    expect(s.tsrun(['delete', 'orphan']).status).toBe(0);

    s.running('detached');
    const detachedPid = s.pid('detached');
    expect(readFileSync(`/proc/${detachedPid}/comm`, 'utf8').trim()).toBe('sleep');
    expect(s.tsrun(['delete', '--force', 'detached']).status).toBe(0);
  }, 60_000);
});
