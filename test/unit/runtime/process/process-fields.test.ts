import { describe, expect, it } from 'vitest';
import type { Process, Spec } from '../../../../src/config/types.js';
import { processFields } from '../../../../src/runtime/process/process-fields.js';
import { RecordingKernel } from '../../fakes/recording-kernel.js';
import { RecordingScheduler } from '../../fakes/recording-scheduler.js';

const proc: Process = {
  cwd: '/',
  args: ['/bin/sh'],
  scheduler: { policy: 'SCHED_BATCH', nice: 3 },
  ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 6 },
  execCPUAffinity: { initial: '0', final: '1' },
};
const spec: Spec = { ociVersion: '1.3.0', process: proc, linux: { personality: { domain: 'LINUX32' } } };

function kernels() {
  const scheduling = new RecordingScheduler();
  const host = new RecordingKernel({ '/proc/42/personality': '00000008\n' });
  const warnings: string[] = [];
  return { scheduling, host, warnings, k: { scheduling, host, warn: (m: string) => warnings.push(m) } };
}

function walk(role: 'init' | 'exec', s: Spec = spec, p: Process = proc) {
  const kk = kernels();
  const fields = processFields(s, p, role, kk.k);
  const log: string[] = [];
  // How many kernel calls each checkpoint made.
  const count = () => kk.scheduling.calls.length + kk.host.calls.length;
  const at = (name: string, fn: () => void) => {
    const before = count();
    fn();
    log.push(`${name}: ${count() - before}`);
  };
  at('beforeCgroup', () => fields.beforeCgroup(42));
  at('spawned', () => fields.spawned(42));
  at('ready', () => fields.ready(42));
  return { ...kk, log };
}

describe('processFields', () => {
  it('for an exec process: initial affinity before the cgroup, I/O priority and scheduler once in it, final affinity and the persona check at ready', () => {
    const { scheduling, host } = walk('exec');
    expect(scheduling.ops()).toEqual([
      'setAffinity 42',
      'getAffinity 42',
      'setIoPriority 42',
      'getIoPriority 42',
      'setScheduler 42',
      'getScheduler 42',
      'setAffinity 42',
      'getAffinity 42',
    ]);
    const affinities = scheduling.calls.flatMap((c) => (c.op === 'setAffinity' ? [c.cpus] : []));
    expect(affinities).toEqual([[0], [1]]);
    expect(host.summary()).toEqual(['readFile /proc/42/personality']);
  });

  it('for the init: no execCPUAffinity (config.md: not applicable to the init process)', () => {
    const { scheduling, log } = walk('init');
    expect(scheduling.ops()).toEqual(['setIoPriority 42', 'getIoPriority 42', 'setScheduler 42', 'getScheduler 42']);
    expect(log).toEqual(['beforeCgroup: 0', 'spawned: 4', 'ready: 1']);
  });

  it('checks every field before anything exists', () => {
    const k = kernels().k;
    expect(() => processFields(spec, { ...proc, execCPUAffinity: { final: '2-1' } }, 'init', k)).toThrow(/^process\.execCPUAffinity\.final: /);
    expect(() => processFields(spec, { ...proc, scheduler: { policy: 'SCHED_FIFO' } }, 'exec', k)).toThrow(/^process\.scheduler\.priority: /);
    expect(() => processFields(spec, { ...proc, ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 9 } }, 'exec', k)).toThrow(/^process\.ioPriority\.priority: /);
    expect(() => processFields({ ...spec, linux: { personality: { domain: 'LINUX', flags: ['X'] } } }, proc, 'exec', k)).toThrow(/^linux\.personality\.flags: /);
  });

  it('passes on what the kernel dropped from an affinity as a warning', () => {
    const kk = kernels();
    kk.scheduling.online = [0, 1];
    processFields(spec, { ...proc, execCPUAffinity: { final: '1-3' } }, 'exec', kk.k).ready(42);
    expect(kk.warnings).toEqual(["process.execCPUAffinity.final: CPUs 2-3 are offline or outside the process's cpuset; it runs on 1"]);
  });

  it('makes no call for a process without these fields', () => {
    const { scheduling, host } = walk('exec', { ociVersion: '1.3.0' }, { cwd: '/', args: ['/bin/sh'] });
    expect(scheduling.calls).toEqual([]);
    expect(host.calls).toEqual([]);
  });
});
