import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, shell, skipReason, tsrunBin, type ConfigObject, type Sandbox } from './support/harness.js';

const skip = skipReason();

/** Fields 19 (nice), 40 (rt_priority) and 41 (policy) of /proc/<pid>/stat: what the kernel shows of the scheduling. */
/**
 * Where real-time group scheduling applies (a cgroup v1 cpu hierarchy with
 * cpu.rt_runtime_us), the container's new cpu cgroup has no real-time run
 * time until the config gives it some; on cgroup v2 there is nothing to give.
 */
function withRealTimeRunTime(c: ConfigObject): void {
  if (!existsSync('/sys/fs/cgroup/cpu/cpu.rt_runtime_us')) return;
  c.linux.resources.cpu = { ...c.linux.resources.cpu, realtimeRuntime: 100_000, realtimePeriod: 1_000_000 };
}

function schedStat(stat: string): { nice: number; rtPriority: number; policy: number } {
  // The fields after the command name, which is in parentheses and may contain spaces.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).trim().split(' ');
  const field = (n: number) => Number(rest[n - 3]);
  return { nice: field(19), rtPriority: field(40), policy: field(41) };
}

describe.skipIf(skip !== undefined)('process fields: personality, ioPriority, scheduler, execCPUAffinity', () => {
  let s: Sandbox;
  beforeAll(() => {
    s = sandbox();
  });
  afterAll(() => s.cleanup());

  function run(id: string, edit: (c: ConfigObject) => void) {
    return s.tsrun(['run', '--bundle', s.bundle(id, edit), id]);
  }


  function processFile(name: string, process: object): string {
    const path = join(s.dir, `${name}.json`);
    writeFileSync(path, JSON.stringify({ cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'], ...process }));
    return path;
  }

  it('linux.personality LINUX32: the program sees persona 8 and a 32-bit machine, and so does an exec', () => {
    const r = run('pf-persona', (c) => {
      c.linux.personality = { domain: 'LINUX32' };
      shell(c, 'cat /proc/self/personality; uname -m');
    });
    expect(r.status, r.stderr).toBe(0);
    const [persona, machine] = r.stdout.trim().split('\n');
    expect(persona).toBe('00000008');
    if (process.arch === 'x64') expect(machine).toBe('i686');

    s.running('pf-persona-exec', (c) => {
      c.linux.personality = { domain: 'LINUX32' };
    });
    const e = s.tsrun(['exec', 'pf-persona-exec', 'cat', '/proc/self/personality']);
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout).toBe('00000008\n');
  });

  it('linux.personality LINUX clears a persona tsrun inherited (setarch around it)', () => {
    const bundle = s.bundle('pf-persona-reset', (c) => {
      c.linux.personality = { domain: 'LINUX' };
      shell(c, 'cat /proc/self/personality');
    });
    const r = spawnSync('setarch', ['linux32', tsrunBin, '--root', s.root, 'run', '--bundle', bundle, 'pf-persona-reset'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('00000000\n');
  });

  it('linux.personality flags are refused: the runtime-spec defines none', () => {
    const r = s.tsrun(['create', '--bundle', s.bundle('pf-persona-flags', (c) => {
      c.linux.personality = { domain: 'LINUX', flags: ['ADDR_NO_RANDOMIZE'] };
    }), 'pf-persona-flags']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('linux.personality.flags: ADDR_NO_RANDOMIZE: the runtime-spec defines no personality flags');
    expect(existsSync(join(s.root, 'pf-persona-flags'))).toBe(false);
  });

  it('process.ioPriority: the init and an exec process have the class and level (ioprio_get, by busybox ionice and the host)', () => {
    const r = run('pf-ioprio', (c) => {
      c.process.ioPriority = { class: 'IOPRIO_CLASS_IDLE', priority: 0 };
      shell(c, 'ionice -p $$');
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('idle');

    const init = s.running('pf-ioprio-exec', (c) => {
      c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 6 };
    });
    // util-linux's ionice on the host asks the kernel about the container's pid.
    expect(spawnSync('ionice', ['-p', String(init)], { encoding: 'utf8' }).stdout.trim()).toBe('best-effort: prio 6');
    const rt = processFile('pf-ioprio-rt', { args: ['ionice', '-p', '1'], ioPriority: { class: 'IOPRIO_CLASS_RT', priority: 2 } });
    // The exec's own priority, and the init's unchanged by it.
    const e = s.tsrun(['exec', '--process', rt, 'pf-ioprio-exec']);
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout.trim()).toBe('best-effort: prio 6');
    const self = processFile('pf-ioprio-self', { args: ['sh', '-c', 'ionice -p $$'], ioPriority: { class: 'IOPRIO_CLASS_RT', priority: 2 } });
    const e2 = s.tsrun(['exec', '--process', self, 'pf-ioprio-exec']);
    expect(e2.status, e2.stderr).toBe(0);
    expect(e2.stdout.trim()).toBe('realtime: prio 2');
  });

  it('process.scheduler SCHED_BATCH with nice: the init runs with them', () => {
    const r = run('pf-batch', (c) => {
      c.process.scheduler = { policy: 'SCHED_BATCH', nice: 7 };
      shell(c, 'cat /proc/$$/stat');
    });
    expect(r.status, r.stderr).toBe(0);
    expect(schedStat(r.stdout)).toEqual({ nice: 7, rtPriority: 0, policy: 3 });
  });

  it('process.scheduler SCHED_FIFO with SCHED_FLAG_RESET_ON_FORK: the process is real-time, its children are not', () => {
    const r = run('pf-fifo', (c) => {
      c.process.scheduler = { policy: 'SCHED_FIFO', priority: 10, flags: ['SCHED_FLAG_RESET_ON_FORK'] };
      withRealTimeRunTime(c);
      // busybox runs cat inside the shell itself: the subshell is the fork.
      shell(c, 'cat /proc/$$/stat; (cat /proc/self/stat); true');
    });
    expect(r.status, r.stderr).toBe(0);
    const [own, child] = r.stdout.trim().split('\n');
    expect(schedStat(own ?? '')).toEqual({ nice: 0, rtPriority: 10, policy: 1 });
    expect(schedStat(child ?? '')).toEqual({ nice: 0, rtPriority: 0, policy: 0 });
  });

  it('process.scheduler SCHED_DEADLINE: the host sees the runtime, deadline and period on the init', () => {
    const init = s.running('pf-deadline', (c) => {
      c.process.scheduler = {
        policy: 'SCHED_DEADLINE',
        runtime: 2_000_000,
        deadline: 10_000_000,
        period: 20_000_000,
        flags: ['SCHED_FLAG_RESET_ON_FORK'],
      };
    });
    const chrt = spawnSync('chrt', ['-p', String(init)], { encoding: 'utf8' });
    expect(chrt.stdout).toMatch(/scheduling policy: SCHED_DEADLINE\|SCHED_RESET_ON_FORK/);
    expect(chrt.stdout).toMatch(/runtime\/deadline\/period parameters: 2000000\/10000000\/20000000/);
  });

  it('process.scheduler for an exec process, from process.json', () => {
    s.running('pf-sched-exec', withRealTimeRunTime);
    const p = processFile('pf-sched', { args: ['sh', '-c', 'cat /proc/$$/stat'], scheduler: { policy: 'SCHED_RR', priority: 5 } });
    const e = s.tsrun(['exec', '--process', p, 'pf-sched-exec']);
    expect(e.status, e.stderr).toBe(0);
    expect(schedStat(e.stdout)).toEqual({ nice: 0, rtPriority: 5, policy: 2 });
  });

  it('process.scheduler that the kernel would refuse is refused before anything exists, naming the field', () => {
    const r = s.tsrun(['create', '--bundle', s.bundle('pf-sched-bad', (c) => {
      c.process.scheduler = { policy: 'SCHED_FIFO' };
    }), 'pf-sched-bad']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('process.scheduler.priority: SCHED_FIFO needs a static priority from 1 (lowest) to 99 (highest)');
    expect(existsSync(join(s.root, 'pf-sched-bad'))).toBe(false);
  });

  it('process.execCPUAffinity: an exec process runs on `final`; `initial` alone stays; the init is not affected (config.md)', () => {
    const init = s.running('pf-affinity', (c) => {
      c.process.execCPUAffinity = { initial: '0', final: '1' };
    });
    const hostCpus = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    expect(/Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${init}/status`, 'utf8'))?.[1]).toBe(hostCpus);

    // Without --process, the config's process (and its execCPUAffinity) is the default.
    const fromConfig = s.tsrun(['exec', 'pf-affinity', 'grep', 'Cpus_allowed_list', '/proc/self/status']);
    expect(fromConfig.status, fromConfig.stderr).toBe(0);
    expect(fromConfig.stdout).toMatch(/^Cpus_allowed_list:\s+1$/m);

    const onlyInitial = processFile('pf-affinity-initial', {
      args: ['grep', 'Cpus_allowed_list', '/proc/self/status'],
      execCPUAffinity: { initial: '1' },
    });
    const i = s.tsrun(['exec', '--process', onlyInitial, 'pf-affinity']);
    expect(i.status, i.stderr).toBe(0);
    expect(i.stdout).toMatch(/^Cpus_allowed_list:\s+1$/m);

    const both = processFile('pf-affinity-both', {
      args: ['grep', 'Cpus_allowed_list', '/proc/self/status'],
      execCPUAffinity: { initial: '1', final: '0-1' },
    });
    const b = s.tsrun(['exec', '--process', both, 'pf-affinity']);
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/^Cpus_allowed_list:\s+0-1$/m);
  });

  it('process.execCPUAffinity: a malformed list is refused naming the field, and a CPU that is not there fails the exec clearly', () => {
    const r = s.tsrun(['create', '--bundle', s.bundle('pf-affinity-bad', (c) => {
      c.process.execCPUAffinity = { final: '3-1' };
    }), 'pf-affinity-bad']);
    expect(r.status).not.toBe(0);
    // (tsrun's log escapes the quotes.)
    expect(r.stderr).toMatch(/process\.execCPUAffinity\.final: \\?"3-1\\?": the range 3-1 runs backwards; write 1-3/);

    s.running('pf-affinity-missing');
    const p = processFile('pf-affinity-missing', { args: ['true'], execCPUAffinity: { final: '4000' } });
    const e = s.tsrun(['exec', '--process', p, 'pf-affinity-missing']);
    expect(e.status).not.toBe(0);
    expect(e.stderr).toMatch(/sched_setaffinity pid \d+ \(process\.execCPUAffinity\.final \\?"4000\\?"\): EINVAL .*none of CPUs 4000 is online/);
  });
});
