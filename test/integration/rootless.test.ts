import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NOBODY, nobodyBundle, skipReason } from './support/harness.js';

const skip = skipReason();

describe.skipIf(skip !== undefined)('an unprivileged caller (rootless)', () => {
  const nobody = nobodyBundle('tsrun-rootless-');
  const { dir, bundle } = nobody;
  const asNobody = (args: string[]) => nobody.tsrun(args);
  afterAll(() => nobody.cleanup());

  it('runs a container as root of a user namespace mapped onto its own uid', () => {

    const spec = asNobody(['spec', '--rootless']);
    expect(spec.status, spec.stderr).toBe(0);
    const config = JSON.parse(spawnSync('cat', [join(bundle, 'config.json')], { encoding: 'utf8' }).stdout);
    expect(config.linux.uidMappings).toEqual([{ containerID: 0, hostID: NOBODY, size: 1 }]);
    config.process.terminal = false;
    config.process.args = ['/bin/sh', '-c', 'id -u; cat /proc/self/uid_map; grep ^Uid /proc/self/status; echo $$'];
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));

    const r = asNobody(['--root', join(dir, 'state'), 'run', 'rootless']);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('0');
    expect(lines[1]?.trim().split(/\s+/)).toEqual(['0', String(NOBODY), '1']);
    expect(lines[3]).toBe('1');

    // exec joins its pid namespace too: the chain enters the user namespace, then the pid
    // namespace, and forks (an unprivileged Node cannot setns into the pid namespace itself).
    config.process.args = ['sleep', '1000'];
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
    const state = join(dir, 'state');
    const started = nobody.tsrun(['--root', state, 'run', '-d', 'rootless-exec'], { detached: true });
    expect(started.status).toBe(0);
    try {
      const e = asNobody(['--root', state, 'exec', 'rootless-exec', 'sh', '-c', 'echo $$; id -u; ps -o pid,comm']);
      expect(e.status, e.stderr).toBe(0);
      const [pid, uid, ...ps] = e.stdout.trim().split('\n');
      expect(Number(pid)).toBeGreaterThan(1);
      expect(Number(pid)).toBeLessThan(100);
      expect(uid).toBe('0');
      expect(ps.map((l) => l.trim())).toContain('1 sleep');
      // The exit code comes through the fork, too.
      expect(asNobody(['--root', state, 'exec', 'rootless-exec', 'sh', '-c', 'exit 9']).status).toBe(9);

      // The scheduler is set on the forked process itself: a reset-on-fork policy set on the
      // forker would be gone from its child.
      const processFile = join(dir, 'sched.json');
      const pidFile = join(dir, 'sched.pid');
      writeFileSync(
        processFile,
        JSON.stringify({ cwd: '/', args: ['sleep', '1000'], user: { uid: 0, gid: 0 }, scheduler: { policy: 'SCHED_BATCH', nice: 5, flags: ['SCHED_FLAG_RESET_ON_FORK'] } }),
      );
      spawnSync('chown', [`${NOBODY}:${NOBODY}`, processFile]);
      const d = nobody.tsrun(['--root', state, 'exec', '-d', '--pid-file', pidFile, '--process', processFile, 'rootless-exec'], { detached: true });
      expect(d.status).toBe(0);
      const chrt = spawnSync('chrt', ['-p', readFileSync(pidFile, 'utf8').trim()], { encoding: 'utf8' });
      expect(chrt.stdout).toMatch(/scheduling policy: SCHED_BATCH\|SCHED_RESET_ON_FORK/);
    } finally {
      asNobody(['--root', state, 'delete', '--force', 'rootless-exec']);
    }
  });

  it('copies a tmpcopyup tmpfs though tsrun lacks CAP_SYS_PTRACE: the process stays dumpable until its copy is made', () => {
    rmSync(join(bundle, 'config.json'), { force: true });
    const spec = asNobody(['spec', '--rootless']);
    expect(spec.status, spec.stderr).toBe(0);
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    config.process.terminal = false;
    config.process.args = ['/bin/sh', '-c', 'stat -c "%n %a %u" /srv/data /srv/data/f; cat /srv/data/f'];
    config.mounts.push({ destination: '/srv/data', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] });
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
    // Made by nobody: the files in the image are the caller's own.
    const data = join(bundle, 'rootfs/srv/data');
    const made = spawnSync('setpriv', ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', 'sh', '-c', `mkdir -p ${data} && chmod 750 ${data} && echo hi > ${data}/f`]);
    expect(made.status).toBe(0);
    const r = asNobody(['--root', join(dir, 'state'), 'run', 'rootless-copyup']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['/srv/data 750 0', '/srv/data/f 644 0', 'hi']);
  });

  it('refuses a createContainer hook it cannot run, before anything exists', () => {
    rmSync(join(bundle, 'config.json'), { force: true });
    expect(asNobody(['spec', '--rootless']).status).toBe(0);
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    config.process.terminal = false;
    const marker = join(dir, 'hook-ran');
    config.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', `touch ${marker}`] }] };
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
    const state = join(dir, 'state');
    const r = asNobody(['--root', state, 'create', 'rootless-hook']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/hooks\.createContainer: an unprivileged tsrun cannot run hooks in the container's namespaces/);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(state, 'rootless-hook'))).toBe(false);
  });
});
