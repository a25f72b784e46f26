import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineLog, removeCgroupParent, sleep, RUNTIMES, type Runtime } from './engines.js';
import { skipReason } from './harness.js';

// The private dockerd of the docker tests (test/integration/docker.test.ts on
// this host, test/vm/docker-systemd.test.ts in the guest booted with systemd).

export const DOCKERD = '/usr/sbin/dockerd';
// What dockerd adds to every `run` when the host's net.ipv4.ip_forward was 0 as it started (a
// fresh machine of this kind; another test's engine may set it to 1 later). The test leaves the
// host's network alone (--ip-forward=false), so the warning is about the host, not the runtime.
export const IP_FORWARD_WARNING = /^WARNING: IPv4 forwarding is disabled\. Networking will not work\.\n/m;
// docker.io's client speaks the daemon's API version; another one on PATH is used only without it.
export const CLIENT = existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';
export const IMAGE = 'tsrun-busybox:test';
// The engine's names for the two runtimes: "runc" itself is docker's own, found on PATH.
export const NAMES: Record<Runtime, string> = { runc: 'runc-deb', tsrun: 'tsrun' };
export interface Engine {
  readonly dir: string;
  readonly socket: string;
  readonly log: EngineLog;
  stop(): void;
}

/**
 * How the private dockerd places containers: under a cgroupfs parent of the
 * test's own (removed at stop), or through systemd (the systemd cgroup
 * driver: each container a docker-<id>.scope in system.slice).
 */
export type CgroupPlacement = { readonly cgroupParent: string } | { readonly cgroupDriver: 'systemd' };

/**
 * Starts a dockerd of its own: data, exec root (with the containerd it
 * starts), pid file, socket and config in a temp directory; no iptables, no
 * bridge, no ip_forward (the host's network stays as it is); vfs storage
 * (no mounts to leave behind); both runtimes by path. Or says why it cannot
 * run here (from its own log).
 */
export async function startDockerd(placement: CgroupPlacement): Promise<Engine | string> {
  const reason = skipReason();
  if (reason !== undefined) return reason;
  if (!existsSync(DOCKERD)) return `${DOCKERD} is missing (.ci/install-deps.sh installs Debian's docker.io)`;
  if (spawnSync(CLIENT, ['--version']).status !== 0) return 'no docker client (docker.io ships /usr/bin/docker)';
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-docker-'));
  const socket = join(dir, 'docker.sock');
  const log = new EngineLog(join(dir, 'dockerd.log'));
  // A config file of its own: a system /etc/docker/daemon.json must not change what is tested,
  // and the identity key dockerd otherwise writes to /etc/docker goes here (no command-line flag for it).
  writeFileSync(join(dir, 'daemon.json'), `${JSON.stringify({ 'deprecated-key-path': join(dir, 'key.json') })}\n`);
  // dockerd makes /run/docker/plugins whatever its flags say; the test removes it if it made it.
  const madeRunDocker = !existsSync('/run/docker');
  const out = openSync(log.path, 'a');
  const daemon = spawn(
    DOCKERD,
    [
      '--config-file', join(dir, 'daemon.json'),
      '--data-root', join(dir, 'data'),
      '--exec-root', join(dir, 'exec'),
      '--pidfile', join(dir, 'dockerd.pid'),
      '--host', `unix://${socket}`,
      '--iptables=false', '--ip-forward=false', '--ip-masq=false', '--bridge=none',
      '--storage-driver', 'vfs',
      ...('cgroupParent' in placement ? ['--cgroup-parent', `/${placement.cgroupParent}`] : ['--exec-opt', 'native.cgroupdriver=systemd']),
      '--add-runtime', `${NAMES.runc}=${RUNTIMES.runc}`,
      '--add-runtime', `${NAMES.tsrun}=${RUNTIMES.tsrun}`,
    ],
    { stdio: ['ignore', out, out] },
  );
  let exited: number | null | undefined;
  daemon.on('exit', (code) => (exited = code));
  const stop = () => {
    // dockerd stops its containerd and the shims; what is left after 10 s is killed.
    daemon.kill('SIGTERM');
    spawnSync('sh', ['-c', `for i in $(seq 100); do kill -0 ${daemon.pid} 2>/dev/null || break; sleep 0.1; done; grep -l ${dir} /proc/*/cmdline 2>/dev/null | cut -d/ -f3 | xargs -r kill -9`]);
    // The data root is a bind mount of itself, the sandboxes' network namespaces bind mounts under the exec root.
    for (const mountPoint of readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(dir)).reverse()) {
      spawnSync('umount', ['--lazy', mountPoint]);
    }
    rmSync(dir, { recursive: true, force: true });
    if (madeRunDocker) rmSync('/run/docker', { recursive: true, force: true });
    if ('cgroupParent' in placement) removeCgroupParent(placement.cgroupParent);
  };
  const docker = (args: readonly string[]) => spawnSync(CLIENT, ['--host', `unix://${socket}`, ...args], { encoding: 'utf8', timeout: 10_000 });
  const deadline = Date.now() + 60_000;
  while (docker(['version']).status !== 0) {
    if (exited !== undefined || Date.now() > deadline) {
      const lines = log.tail(400).split('\n').filter(Boolean);
      // Its errors if it logged any, else its last words (a flag it refused, say).
      const errors = lines.filter((l) => /level=(fatal|error)/.test(l));
      const last = (errors.length > 0 ? errors : lines).slice(-3).join('\n');
      const why = exited !== undefined ? `dockerd exited with ${exited}` : 'dockerd did not answer within 60 s';
      stop();
      return `${why}: ${last || 'its log is empty'}`;
    }
    await sleep(200);
  }
  return { dir, socket, log, stop };
}
