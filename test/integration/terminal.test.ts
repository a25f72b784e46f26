import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRunc, repoRoot, RUNC, sandbox, sessionOf, skipReason, tsrunBin, type Sandbox } from './support/harness.js';

const skip = skipReason();
const receiver = join(repoRoot, 'test/integration/support/console-receiver.py');
const driver = join(repoRoot, 'test/integration/support/pty-driver.py');

/** An engine listening on a --console-socket: resolves to what it saw once it typed `line` and saw `marker`. */
function listen(socket: string, line: string, marker: string): { ready: Promise<void>; done: Promise<{ code: number | null; output: string }> } {
  const child = spawn('python3', [receiver, socket, line, marker], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const ready = new Promise<void>((resolve) => {
    const check = () => (existsSync(socket) ? resolve() : setTimeout(check, 50));
    check();
  });
  const done = new Promise<{ code: number | null; output: string }>((resolve) => child.on('exit', (code) => resolve({ code, output })));
  return { ready, done };
}

describe.skipIf(skip !== undefined)('terminals', () => {
  let s: Sandbox;
  beforeAll(() => {
    s = sandbox();
  });
  afterAll(() => s.cleanup());

  it("create sends the master of a pty in the container's devpts to --console-socket; typed input reaches the shell", async () => {
    const bundle = s.bundle('tty-create', (c) => {
      c.process.terminal = true;
      c.process.consoleSize = { height: 40, width: 120 };
      c.process.args = ['sh'];
    });
    const socket = join(s.dir, 'create.sock');
    const engine = listen(socket, 'echo $(tty) $(stty size) $(stat -c %t:%T /dev/console) typed-$((40+2))', 'typed-42');
    await engine.ready;
    const created = s.tsrun(['create', '--bundle', bundle, '--console-socket', socket, 'tty-create']);
    expect(created.status, created.stderr).toBe(0);
    expect(s.tsrun(['start', 'tty-create']).status).toBe(0);
    const { code, output } = await engine.done;
    expect(code, output).toBe(0);
    expect(output).toContain('name=/dev/pts/0 fds=1');
    // The shell's stdio is the pty, sized as consoleSize asks; /dev/console is that pty too (char 136:0).
    expect(output).toContain('/dev/pts/0 40 120 88:0 typed-42');
  });

  it('exec -t -d --console-socket gives a new pty to the engine', async () => {
    expect(s.tsrun(['run', '-d', '--bundle', s.bundle('tty-exec', (c) => (c.process.args = ['sleep', '1000'])), 'tty-exec']).status).toBe(0);
    const socket = join(s.dir, 'exec.sock');
    const engine = listen(socket, 'echo $(tty) $(id -u) exec-$((40+2))', 'exec-42');
    await engine.ready;
    const r = s.tsrun(['exec', '-t', '-d', '--console-socket', socket, '--user', '1000', 'tty-exec', 'sh']);
    expect(r.status, r.stderr).toBe(0);
    const { code, output } = await engine.done;
    expect(code, output).toBe(0);
    expect(output).toMatch(/\/dev\/pts\/\d+ 1000 exec-42/);
  });

  it('exec -t in the foreground makes the caller\'s terminal an interactive shell in the container, and returns its exit code', () => {
    expect(s.tsrun(['run', '-d', '--bundle', s.bundle('tty-fg', (c) => (c.process.args = ['sleep', '1000'])), 'tty-fg']).status).toBe(0);
    const r = spawnSync('python3', [driver, 'echo $(hostname) $(tty) $(stty size) fg-$((40+2))', 'exit 3', '--', tsrunBin, '--root', s.root, 'exec', '-t', 'tty-fg', 'sh'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stdout, r.stderr).toMatch(/tsrun-test \/dev\/pts\/\d+ 30 100 fg-42/);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('exit=3');
  });

  it('exec -t: the process leads its session, the pty is its controlling terminal and it is the foreground group, as with runc', () => {
    s.running('tty-session');
    const lead = (command: readonly string[]) => {
      const r = spawnSync('python3', [driver, '--', ...command, 'cat', '/proc/self/stat'], { encoding: 'utf8', timeout: 60_000 });
      const stat = sessionOf(r.stdout.split('\n').find((l) => l.includes('(cat)')) ?? '');
      expect(stat.tty, r.stdout + r.stderr).not.toBe(0);
      expect(stat).toMatchObject({ pgid: stat.pid, sid: stat.pid, tpgid: stat.pid });
    };
    lead([tsrunBin, '--root', s.root, 'exec', '-t', 'tty-session']);
    if (!hasRunc) return;
    expect(s.runc(['run', '-d', '--bundle', join(s.dir, 'tty-session'), 'runc-tty-session'], { detached: true }).status).toBe(0);
    lead([RUNC, '--root', s.runcRoot, 'exec', '-t', 'runc-tty-session']);
  });

  it('exec -t: the pty has its size before the process runs, every time (consoleSize to a --console-socket; the caller\'s in the foreground)', async () => {
    s.running('tty-size');
    const sized = join(s.dir, 'tty-size.json');
    writeFileSync(sized, JSON.stringify({ terminal: true, consoleSize: { height: 40, width: 120 }, args: ['stty', 'size'], cwd: '/', env: ['PATH=/bin'] }));
    for (let i = 0; i < 10; i += 1) {
      const socket = join(s.dir, `size-${i}.sock`);
      const engine = listen(socket, '', '40 120');
      await engine.ready;
      const r = s.tsrun(['exec', '-d', '--console-socket', socket, '--process', sized, 'tty-size']);
      expect(r.status, r.stderr).toBe(0);
      const { code, output } = await engine.done;
      expect(code, `try ${i}: ${output}`).toBe(0);
    }
    // In the foreground the pty mirrors tsrun's own terminal (the driver's, 30x100).
    for (let i = 0; i < 10; i += 1) {
      const r = spawnSync('python3', [driver, '--', tsrunBin, '--root', s.root, 'exec', '-t', 'tty-size', 'stty', 'size'], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stdout, `try ${i}: ${r.stderr}`).toMatch(/^30 100\s*\nexit=0/);
    }
  });

  it('run -t in the foreground, without a socket, attaches the caller\'s terminal', () => {
    const bundle = s.bundle('tty-run', (c) => {
      c.process.terminal = true;
      c.process.args = ['sh'];
    });
    const r = spawnSync('python3', [driver, 'echo $(tty) run-$((40+2))', 'exit 5', '--', tsrunBin, '--root', s.root, 'run', '--bundle', bundle, 'tty-run'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stdout, r.stderr).toMatch(/\/dev\/pts\/0 run-42/);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('exit=5');
    expect(existsSync(join(s.root, 'tty-run'))).toBe(false);
  });

  it('run -t in the foreground: the pty has the caller\'s size before the process runs, every time', () => {
    const bundle = s.bundle('tty-run-size', (c) => {
      c.process.terminal = true;
      c.process.args = ['stty', 'size'];
    });
    for (let i = 0; i < 10; i += 1) {
      const r = spawnSync('python3', [driver, '--', tsrunBin, '--root', s.root, 'run', '--bundle', bundle, 'tty-run-size'], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stdout, `try ${i}: ${r.stderr}`).toMatch(/^30 100\s*\nexit=0/);
    }
  });

  it('refuses a terminal that nobody would receive, leaving nothing behind', () => {
    const bundle = s.bundle('tty-nosocket', (c) => {
      c.process.terminal = true;
      c.process.args = ['sh'];
    });
    const r = s.tsrun(['create', '--bundle', bundle, 'tty-nosocket']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('needs --console-socket');
    expect(existsSync(s.root) ? readdirSync(s.root) : []).not.toContain('tty-nosocket');
  });
});
