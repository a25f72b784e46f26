import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { both, EngineLog, ociArchive, pidsCgroup, removeCgroupParent, RUNTIMES, sleep, waitFor, type Runtime } from './engines.js';
import { repoRoot } from './harness.js';

// containerd's CRI plugin, driven by crictl as kubelet drives it, with two runtime handlers in one
// private containerd: "runc" (Debian's runc) and "tsrun", both through the runc shim with their
// BinaryName. Each pod and container is made once per handler in the same test, and what the CRI
// reports for runc's is what it must report for tsrun's. With the cgroupfs driver on the host
// (test/integration/cri.test.ts), and with SystemdCgroup in the guest booted with systemd
// (test/vm/cri-systemd.test.ts), as kubelet is mostly configured.

/** crictl from .ci/crictl.sh (built once per machine into a cache outside the checkout), or why there is none. */
export function crictl(): { bin: string } | { why: string } {
  const r = spawnSync('bash', [join(repoRoot, '.ci/crictl.sh')], { encoding: 'utf8', timeout: 600_000 });
  return r.status === 0 ? { bin: r.stdout.trim() } : { why: `crictl could not be built: ${r.stderr.trim() || r.error?.message}` };
}

/** Why containerd's CRI cannot be driven here, or undefined. */
export function criMissing(): string | undefined {
  for (const tool of ['containerd', 'ctr', 'containerd-shim-runc-v2']) {
    if (spawnSync('which', [tool]).status !== 0) return `${tool} is not installed (.ci/install-deps.sh installs Debian's containerd)`;
  }
  return undefined;
}

/**
 * How the pods' cgroups are named: cgroupfs takes a path for the pods' cgroup_parent and puts
 * each container at <parent>/<id>; systemd takes a slice and makes each container a scope of it,
 * cri-containerd-<id>.scope (containerd's cgroupsPath "<slice>:cri-containerd:<id>").
 */
export interface CgroupDriver {
  readonly systemd: boolean;
  readonly podParent: string;
  /** The path in /proc/<pid>/cgroup of a container or sandbox with this id. */
  cgroupOf(id: string): string;
  /** After the pods are gone: remove what the driver left of the parent, failing if it still holds anything. */
  cleanup(): void;
}

// Pods' and containers' cgroups go under this parent (the pods' cgroup_parent); the test removes it.
const CGROUP_PARENT = 'cri-tsrun-it';
const SLICE = 'tsruncri.slice';

export const CGROUPFS: CgroupDriver = {
  systemd: false,
  podParent: `/${CGROUP_PARENT}`,
  cgroupOf: (id) => `/${CGROUP_PARENT}/${id}`,
  // Last: a parent still populated (a container that escaped the cleanup) fails the file.
  cleanup: () => removeCgroupParent(CGROUP_PARENT),
};

export const SYSTEMD: CgroupDriver = {
  systemd: true,
  podParent: SLICE,
  cgroupOf: (id) => `/${SLICE}/cri-containerd-${id}.scope`,
  cleanup() {
    // systemd made the slice when the first scope needed it; a scope still in it fails the file.
    const dir = `/sys/fs/cgroup/${SLICE}`;
    const left = existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name) : [];
    spawnSync('systemctl', ['stop', SLICE]);
    if (left.length > 0) throw new Error(`${SLICE} still holds ${left.join(', ')}`);
  },
};

/** The unit systemd shows for a cgroup path, and whether it is an active, delegated scope. */
function scopeState(path: string): { unit: string; active: string; delegate: string } {
  const unit = path.split('/').pop() ?? '';
  const show = (property: string) => spawnSync('systemctl', ['show', unit, `--property=${property}`, '--value'], { encoding: 'utf8' }).stdout.trim();
  return { unit: unit.replace(/-[0-9a-f]{64}\.scope$/, '-<id>.scope'), active: show('ActiveState'), delegate: show('Delegate') };
}

const IMAGE = 'docker.io/tsrun/busybox:cri';
// Traps SIGTERM: `crictl stop` must deliver it, and the exit code the trap chooses must come back.
const MAIN = "trap 'echo stopping; exit 7' TERM; echo started; while :; do sleep 0.1; done";

/** The suite, with crictl at `bin` and the pods' cgroups made by `driver`. */
export function describeCri(title: string, skip: string | undefined, bin: string, driver: CgroupDriver): void {
  describe.skipIf(skip !== undefined)(title, () => {
    const dir = mkdtempSync(join(tmpdir(), 'cri-tsrun-'));
    const socket = join(dir, 'containerd.sock');
    const log = new EngineLog(join(dir, 'containerd.log'));
    // The shim's runtime state root for each handler (its Root option, under which the shim keeps one
    // directory per containerd namespace, here k8s.io): where the runtime itself is asked.
    const runtimeRoot = (runtime: Runtime) => join(dir, `runtime-${runtime}`);
    let daemon: ChildProcess | undefined;
    const pods: Partial<Record<Runtime, string>> = {};
    const containers: Partial<Record<Runtime, string>> = {};

    const cri = (args: readonly string[]): SpawnSyncReturns<string> =>
      spawnSync(bin, ['--config', join(dir, 'crictl.yaml'), ...args], { encoding: 'utf8', timeout: 60_000 });
    const ok = (args: readonly string[]): string => {
      const r = cri(args);
      if (r.status !== 0) throw new Error(`crictl ${args.join(' ')}: ${r.stderr}`);
      return r.stdout.trim();
    };
    const podFile = (runtime: Runtime) => join(dir, `pod-${runtime}.json`);
    const containerFile = (runtime: Runtime) => join(dir, `container-${runtime}.json`);
    /** What the runtime itself says of a container: `<runtime> --root <the shim's root> state <id>`. */
    const runtimeState = (runtime: Runtime, id: string): { status: string; pid: number } | undefined => {
      const r = spawnSync(RUNTIMES[runtime], ['--root', join(runtimeRoot(runtime), 'k8s.io'), 'state', id], { encoding: 'utf8' });
      return r.status === 0 ? (JSON.parse(r.stdout) as { status: string; pid: number }) : undefined;
    };
    const inspectp = (id: string) => JSON.parse(ok(['inspectp', id])) as { status: { state: string }; info: { pid: number; runtimeHandler: string } };
    const inspect = (id: string) => JSON.parse(ok(['inspect', id])) as { status: { state: string; exitCode: number }; info: { pid: number } };
    const ns = (pid: number, kind: string) => readlinkSync(`/proc/${pid}/ns/${kind}`);
    /**
     * The error lines containerd logged since `mark`, but those it writes for the execs the test
     * makes fail on purpose, with runc as with tsrun: one for each exec exiting non-zero, and the
     * ExecSync of a missing command.
     */
    const errorsSince = (mark: number) =>
      log.errorsSince(mark).filter((l) => !/msg="execing command in container \w+( synchronously)?: |msg="ExecSync for .* failed" error=.*\/nonexistent/.test(l));

    beforeAll(async () => {
      const archive = join(dir, 'busybox.tar');
      // The pause image too (sandbox_image): CRI runs the image's own command as the pod's pause process.
      ociArchive(archive, IMAGE, ['sleep', '100000']);
      const handler = (runtime: Runtime) => `
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${runtime}]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${runtime}.options]
          BinaryName = "${RUNTIMES[runtime]}"
          Root = "${runtimeRoot(runtime)}"
          SystemdCgroup = ${driver.systemd}`;
      writeFileSync(
        join(dir, 'config.toml'),
        `version = 2
  root = "${dir}/root"
  state = "${dir}/state"
  [grpc]
    address = "${socket}"
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "${IMAGE}"
    # The pause container asks oom_score_adj -998, which root without CAP_SYS_RESOURCE (this machine
    # kind's) may not set: runc and tsrun both refuse it. containerd caps it at its own value instead.
    restrict_oom_score_adj = true
    # Exec streams on a port of the loopback the kernel picks: no fixed port to collide on.
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    # Host-network pods need no CNI; empty private directories keep the host's config out.
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "${dir}/cni-bin"
      conf_dir = "${dir}/cni-conf"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      # Plain directories: nothing stacked on the temp directory's filesystem.
      snapshotter = "native"
      default_runtime_name = "runc"${handler('runc')}${handler('tsrun')}
  `,
      );
      writeFileSync(join(dir, 'crictl.yaml'), `runtime-endpoint: unix://${socket}\nimage-endpoint: unix://${socket}\ntimeout: 30\n`);
      for (const runtime of ['runc', 'tsrun'] as const) {
        // hostNetwork (namespace_options.network NODE): kubelet's way to run a pod without CNI. The
        // pid namespace per container (CONTAINER), as kubelet asks unless shareProcessNamespace; IPC
        // the pod's (POD, the enum's 0), as kubelet's default.
        writeFileSync(
          podFile(runtime),
          JSON.stringify({
            metadata: { name: `cri-pod-${runtime}`, namespace: 'default', uid: `cri-pod-${runtime}`, attempt: 0 },
            log_directory: join(dir, 'logs', runtime),
            linux: { cgroup_parent: driver.podParent, security_context: { namespace_options: { network: 2, pid: 1 } } },
          }),
        );
        writeFileSync(
          containerFile(runtime),
          JSON.stringify({
            metadata: { name: `cri-main-${runtime}` },
            image: { image: IMAGE },
            command: ['/bin/sh', '-c', MAIN],
            log_path: 'main.log',
            // kubelet repeats the pod's namespace options in each container's.
            linux: { security_context: { namespace_options: { network: 2, pid: 1 } } },
          }),
        );
      }
      mkdirSync(join(dir, 'cni-bin'));
      mkdirSync(join(dir, 'cni-conf'));
      const out = openSync(log.path, 'a');
      daemon = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: ['ignore', out, out] });
      await waitFor('containerd\'s CRI to answer on its socket', () => cri(['version']).status === 0, 20_000);
      const imported = spawnSync('ctr', ['--address', socket, '--namespace', 'k8s.io', 'images', 'import', archive], { encoding: 'utf8' });
      if (imported.status !== 0) throw new Error(`ctr images import: ${imported.stderr}`);
    });

    afterAll(async () => {
      // Pods first, through containerd: it stops and removes their containers, shims and mounts.
      cri(['rmp', '--force', '--all']);
      daemon?.kill('SIGTERM');
      const exited = daemon === undefined || daemon.exitCode !== null ? Promise.resolve() : new Promise((r) => daemon?.once('exit', r));
      await Promise.race([exited, sleep(10_000)]);
      // Shims carry the socket path in their arguments; one left behind holds the state open.
      spawnSync('sh', ['-c', `grep -l ${dir} /proc/*/cmdline 2>/dev/null | cut -d/ -f3 | xargs -r kill -9`]);
      for (const mountPoint of readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(dir)).reverse()) {
        spawnSync('umount', ['--lazy', mountPoint]);
      }
      rmSync(dir, { recursive: true, force: true });
      driver.cleanup();
    });

    it('runp: the pod sandbox runs its pause process through the handler\'s runtime, in the pod\'s cgroup', () => {
      const mark = log.mark();
      const r = both((runtime) => {
        const id = ok(['runp', '--runtime', runtime, podFile(runtime)]);
        pods[runtime] = id;
        const { status, info } = inspectp(id);
        const state = runtimeState(runtime, id);
        return {
          state: status.state,
          handler: info.runtimeHandler,
          runtimeSays: state?.status,
          samePid: state?.pid === info.pid,
          cgroup: pidsCgroup(info.pid).path === driver.cgroupOf(id),
          ...(driver.systemd ? { scope: scopeState(driver.cgroupOf(id)) } : {}),
          command: readFileSync(`/proc/${info.pid}/cmdline`, 'utf8'),
          // hostNetwork: the host's network namespace.
          hostNetwork: ns(info.pid, 'net') === ns(process.pid, 'net'),
        };
      });
      expect(r.runc).toEqual({
        state: 'SANDBOX_READY',
        handler: 'runc',
        runtimeSays: 'running',
        samePid: true,
        cgroup: true,
        ...(driver.systemd ? { scope: { unit: 'cri-containerd-<id>.scope', active: 'active', delegate: 'yes' } } : {}),
        command: 'sleep\0' + '100000\0',
        hostNetwork: true,
      });
      expect(r.tsrun).toEqual({ ...r.runc, handler: 'tsrun' });
      expect(errorsSince(mark)).toEqual([]);
    });

    it('create, then start: the container runs its command in the pod (its IPC namespace), in its own pid namespace and cgroup', async () => {
      const mark = log.mark();
      const r = await Promise.all(
        (['runc', 'tsrun'] as const).map(async (runtime) => {
          const pod = pods[runtime] as string;
          const id = ok(['create', '--no-pull', pod, containerFile(runtime), podFile(runtime)]);
          containers[runtime] = id;
          // containerd asks the runtime to create the container only at StartContainer.
          const created = { cri: inspect(id).status.state, runtimeSays: runtimeState(runtime, id)?.status };
          ok(['start', id]);
          await waitFor(`${runtime}'s container to log "started"`, () => cri(['logs', id]).stdout === 'started\n');
          const { status, info } = inspect(id);
          const pause = inspectp(pod).info.pid;
          return {
            created,
            started: status.state,
            runtimeSays: runtimeState(runtime, id)?.status,
            cgroup: pidsCgroup(info.pid).path === driver.cgroupOf(id),
            ...(driver.systemd ? { scope: scopeState(driver.cgroupOf(id)) } : {}),
            podIpc: ns(info.pid, 'ipc') === ns(pause, 'ipc'),
            ownPid: ns(info.pid, 'pid') !== ns(pause, 'pid'),
            hostNetwork: ns(info.pid, 'net') === ns(process.pid, 'net'),
          };
        }),
      );
      expect(r[0]).toEqual({
        created: { cri: 'CONTAINER_CREATED', runtimeSays: undefined },
        started: 'CONTAINER_RUNNING',
        runtimeSays: 'running',
        cgroup: true,
        ...(driver.systemd ? { scope: { unit: 'cri-containerd-<id>.scope', active: 'active', delegate: 'yes' } } : {}),
        podIpc: true,
        ownPid: true,
        hostNetwork: true,
      });
      expect(r[1]).toEqual(r[0]);
      expect(errorsSince(mark)).toEqual([]);
    });

    it('exec: output and exit code, synchronous (ExecSync, as kubelet\'s probes) and streamed (Exec)', () => {
      const mark = log.mark();
      const r = both((runtime) => {
        const id = containers[runtime] as string;
        const sync = cri(['exec', '--sync', id, '/bin/sh', '-c', 'echo "in $(cat /proc/1/comm) as $(id -u)"']);
        const syncFailing = cri(['exec', '--sync', id, '/bin/sh', '-c', 'echo err >&2; exit 3']);
        const streamed = cri(['exec', id, '/bin/sh', '-c', 'echo streamed; exit 5']);
        const missing = cri(['exec', '--sync', id, '/nonexistent']);
        return {
          sync: [sync.status, sync.stdout],
          syncFailing: [syncFailing.status, /exited with (\d+): err/.exec(syncFailing.stderr)?.[1]],
          streamed: [streamed.status, streamed.stdout, /exit code (\d+)/.exec(streamed.stderr)?.[1]],
          // What the runtime says after its own prefix (runc's "exec failed: unable to start container
          // process: ", tsrun's the field), in the words engines match on.
          missing: [missing.status, /OCI runtime exec failed: .*?(exec: .*): unknown"/.exec(missing.stderr)?.[1] ?? missing.stderr],
        };
      });
      // crictl exits 1 when the command fails and names its exit code; --sync ends the output with blank lines of its own.
      expect(r.runc).toEqual({
        sync: [0, 'in sh as 0\n\n\n'],
        syncFailing: [1, '3'],
        streamed: [1, 'streamed\n', '5'],
        // As crictl quotes them (the quotes escaped).
        missing: [1, String.raw`exec: \"/nonexistent\": stat /nonexistent: no such file or directory`],
      });
      expect(r.tsrun).toEqual(r.runc);
      expect(errorsSince(mark)).toEqual([]);
    });

    it('stop delivers SIGTERM (the trap\'s exit code comes back), then rm removes the container from the CRI and the runtime', () => {
      const mark = log.mark();
      const r = both((runtime) => {
        const id = containers[runtime] as string;
        const pid = inspect(id).info.pid;
        ok(['stop', '--timeout', '10', id]);
        const { status } = inspect(id);
        const logs = cri(['logs', id]).stdout;
        ok(['rm', id]);
        return {
          state: status.state,
          exitCode: status.exitCode,
          logs,
          alive: existsSync(`/proc/${pid}`),
          listed: ok(['ps', '--all', '--quiet']).split('\n').includes(id),
          runtimeSays: runtimeState(runtime, id)?.status,
        };
      });
      expect(r.runc).toEqual({ state: 'CONTAINER_EXITED', exitCode: 7, logs: 'started\nstopping\n', alive: false, listed: false, runtimeSays: undefined });
      expect(r.tsrun).toEqual(r.runc);
      expect(errorsSince(mark)).toEqual([]);
    });

    it('stopp, then rmp: the pause process stops, and the pod, its cgroup and its runtime state are gone', () => {
      const mark = log.mark();
      const r = both((runtime) => {
        const id = pods[runtime] as string;
        const pid = inspectp(id).info.pid;
        const cgroup = pidsCgroup(pid).dir;
        ok(['stopp', id]);
        const stopped = { state: inspectp(id).status.state, alive: existsSync(`/proc/${pid}`) };
        ok(['rmp', id]);
        return {
          stopped,
          listed: ok(['pods', '--quiet']).split('\n').includes(id),
          cgroup: existsSync(cgroup),
          state: readdirSync(join(runtimeRoot(runtime), 'k8s.io')),
        };
      });
      expect(r.runc).toEqual({ stopped: { state: 'SANDBOX_NOTREADY', alive: false }, listed: false, cgroup: false, state: [] });
      expect(r.tsrun).toEqual(r.runc);
      expect(errorsSince(mark)).toEqual([]);
    });
  });
}
