import { describe, expect, it } from 'vitest';
import type { Spec } from '../../../../src/config/types.js';
import { refuseUnsupported } from '../../../../src/runtime/process/unsupported.js';

function spec(overrides: Partial<Spec> = {}): Spec {
  return {
    ociVersion: '1.2.0',
    root: { path: 'rootfs' },
    process: { cwd: '/', args: ['/bin/sh'] },
    linux: { namespaces: [{ type: 'mount' }] },
    ...overrides,
  };
}

const hook = { path: '/bin/true' };

describe('refuseUnsupported', () => {
  it('accepts every hook kind', () => {
    const all = { prestart: [hook], createRuntime: [hook], createContainer: [hook], startContainer: [hook], poststart: [hook], poststop: [hook] };
    expect(() => refuseUnsupported(spec({ hooks: all }))).not.toThrow();
    expect(() => refuseUnsupported(spec())).not.toThrow();
  });

  it('accepts the process fields tsrun implements: scheduler, ioPriority, execCPUAffinity, personality', () => {
    const proc = {
      cwd: '/',
      args: ['/bin/sh'],
      scheduler: { policy: 'SCHED_BATCH' as const },
      ioPriority: { class: 'IOPRIO_CLASS_BE' as const, priority: 4 },
      execCPUAffinity: { initial: '0', final: '0-1' },
    };
    expect(() => refuseUnsupported(spec({ process: proc, linux: { personality: { domain: 'LINUX32' } } }))).not.toThrow();
  });

  it('lists every unsupported field present, one line each', () => {
    const both = spec({ linux: { namespaces: [{ type: 'mount' }], intelRdt: { closID: 'c1' }, memoryPolicy: { mode: 'MPOL_BIND', nodes: '0' } } });
    expect(() => refuseUnsupported(both)).toThrow(
      new Error(
        ['linux.intelRdt: tsrun does not support Intel RDT yet; remove the field', 'linux.memoryPolicy: tsrun does not support NUMA memory policies yet; remove the field'].join('\n'),
      ),
    );
  });

  it('leaves LSM labels to their resolvers, which apply them when the host runs the module', () => {
    const labelled = spec({
      process: { cwd: '/', args: ['/bin/sh'], apparmorProfile: 'p', selinuxLabel: 'system_u:system_r:container_t:s0' },
      linux: { namespaces: [{ type: 'mount' }], mountLabel: 'system_u:object_r:container_file_t:s0' },
    });
    expect(() => refuseUnsupported(labelled)).not.toThrow();
  });
});
