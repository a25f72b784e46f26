import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORWARDED } from '../../src/runtime/process/foreground.js';
import { sandbox, shell, skipReason, tsrunBin, type Sandbox } from '../integration/support/harness.js';
import { recordCounts } from './support/counts.js';
import { cgroupDirs, leftovers } from './support/tsrun.js';

const skip = skipReason();
if (skip !== undefined) console.warn(`skipping the signal-forwarding tests: ${skip}`);

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

  it(`each of the ${FORWARDED.length} forwarded signals reaches the container's process, which then exits with its own code`, async () => {
    // The container's shell traps every forwarded signal and prints its name;
    // SIGTERM, sent last, ends it with 3. Names without "SIG", as busybox's trap takes them.
    const started = Date.now();
    const others = FORWARDED.filter((sig) => sig !== 'SIGTERM');
    const traps = others.map((sig) => `trap 'echo got ${sig}' ${sig.slice(3)}`).join('; ');
    const bundle = s.bundle('fwd', (c) => shell(c, `${traps}; trap 'echo got SIGTERM; exit 3' TERM; echo ready; while :; do sleep 0.05; done`));
    const out = join(s.dir, 'fwd.out');
    const fd = openSync(out, 'w+');
    const run = spawn(tsrunBin, ['--root', s.root, 'run', '--bundle', bundle, 'fwd'], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const exited = new Promise<number | null>((resolve) => run.on('exit', (code) => resolve(code)));
    const output = () => readFileSync(out, 'utf8');
    expect(await until(() => output().includes('ready'))).toBe(true);
    const missing: string[] = [];
    for (const sig of others) {
      run.kill(sig);
      if (!(await until(() => output().includes(`got ${sig}\n`), 3000))) missing.push(sig);
    }
    run.kill('SIGTERM');
    const code = await exited;
    // run deletes the container once its process exits: nothing may stay.
    const left = leftovers({ root: s.root, sandbox: s.dir, cgroups: new Map(cgroupDirs('fwd', undefined).map((d) => [d, false])) });
    recordCounts({
      test: 'signal forwarding',
      cases: FORWARDED.length,
      failures: missing.length + (code === 3 ? 0 : 1),
      leftovers: left.length,
      note: `each signal tsrun forwards sent to a foreground run, the first right after the container printed "ready"; ${missing.length === 0 ? 'all' : `all but ${missing.join(', ')}`} trapped inside; exit ${code}, the process's own; ${((Date.now() - started) / 1000).toFixed(1)} s`,
    });
    expect(code).toBe(3);
    expect(missing).toEqual([]);
    expect(output()).toContain('got SIGTERM');
    expect(left).toEqual([]);
  }, 120_000);

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
