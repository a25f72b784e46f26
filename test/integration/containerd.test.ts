import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleRootfs, skipReason, tsrunBin } from './support/harness.js';

function reason(): string | undefined {
  const base = skipReason();
  if (base !== undefined) return base;
  for (const tool of ['containerd', 'ctr', 'containerd-shim-runc-v2']) {
    if (spawnSync('which', [tool]).status !== 0) {
      const why = `${tool} is not installed (.ci/install-deps.sh installs Debian's containerd)`;
      console.warn(`skipping containerd tests: ${why}`);
      return why;
    }
  }
  return undefined;
}

const skip = reason();

// A private containerd (own socket, root and state) so the test never
// touches a system instance; ctr's --runc-binary points the shim at tsrun.
describe.skipIf(skip !== undefined)('containerd drives tsrun like runc', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-containerd-'));
  const socket = join(dir, 'containerd.sock');
  let daemon: ChildProcess;

  const ctr = (args: string[]) =>
    spawnSync('ctr', ['--address', socket, ...args], { encoding: 'utf8', timeout: 60_000 });

  beforeAll(async () => {
    writeFileSync(
      join(dir, 'config.toml'),
      `version = 2\nroot = "${dir}/root"\nstate = "${dir}/state"\n[grpc]\n  address = "${socket}"\n`,
    );
    daemon = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: 'ignore' });
    const deadline = Date.now() + 20_000;
    while (ctr(['version']).status !== 0) {
      if (Date.now() > deadline) throw new Error('containerd did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  afterAll(() => {
    daemon?.kill('SIGTERM');
    spawnSync('sh', ['-c', `grep -l ${dir} /proc/*/cmdline 2>/dev/null | cut -d/ -f3 | xargs -r kill -9`]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a container and returns its exit code', () => {
    const r = ctr(['run', '--rm', '--runc-binary', tsrunBin, '--rootfs', exampleRootfs, 'ctr-exit', '/bin/sh', '-c', 'echo pid=$$; exit 3']);
    expect(r.stdout).toContain('pid=1');
    expect(r.status).toBe(3);
  });

  it('kills a detached container through the shim and deletes it', async () => {
    const started = ctr(['run', '-d', '--runc-binary', tsrunBin, '--rootfs', exampleRootfs, 'ctr-bg', '/bin/sleep', '1000']);
    expect(started.status, started.stderr).toBe(0);
    const tasks = ctr(['task', 'ls']);
    expect(tasks.stdout).toMatch(/ctr-bg\s+\d+\s+RUNNING/);
    const pid = Number(/ctr-bg\s+(\d+)/.exec(tasks.stdout)?.[1]);
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toBe('/bin/sleep\u00001000\u0000');

    expect(ctr(['task', 'kill', '--signal', 'SIGKILL', 'ctr-bg']).status).toBe(0);
    const deadline = Date.now() + 10_000;
    while (!/ctr-bg\s+\d+\s+STOPPED/.test(ctr(['task', 'ls']).stdout)) {
      if (Date.now() > deadline) throw new Error('task did not stop');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(ctr(['task', 'delete', 'ctr-bg']).status).toBe(0);
    expect(ctr(['container', 'delete', 'ctr-bg']).status).toBe(0);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
  });
});
