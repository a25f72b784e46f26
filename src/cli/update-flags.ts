import type { LinuxResources } from '../config/types.js';
import { parseMemorySize } from './units.js';

/** runc update's flags, as strings (an absent flag is undefined). */
export interface UpdateFlags {
  readonly 'blkio-weight'?: string | undefined;
  readonly 'cpu-period'?: string | undefined;
  readonly 'cpu-quota'?: string | undefined;
  readonly 'cpu-burst'?: string | undefined;
  readonly 'cpu-share'?: string | undefined;
  readonly 'cpu-rt-period'?: string | undefined;
  readonly 'cpu-rt-runtime'?: string | undefined;
  readonly 'cpuset-cpus'?: string | undefined;
  readonly 'cpuset-mems'?: string | undefined;
  readonly 'cpu-idle'?: string | undefined;
  readonly 'kernel-memory'?: string | undefined;
  readonly 'kernel-memory-tcp'?: string | undefined;
  readonly memory?: string | undefined;
  readonly 'memory-reservation'?: string | undefined;
  readonly 'memory-swap'?: string | undefined;
  readonly 'pids-limit'?: string | undefined;
  readonly 'l3-cache-schema'?: string | undefined;
  readonly 'mem-bw-schema'?: string | undefined;
}

/**
 * The resources an update's flags ask for, read as runc reads them: an
 * empty string or a blkio weight of 0 means "not given", memory values
 * take sizes such as 512m or -1 for unlimited.
 */
export function resourcesFromFlags(flags: UpdateFlags): LinuxResources {
  for (const flag of ['kernel-memory', 'kernel-memory-tcp'] as const) {
    // runc warns and ignores these; a limit that is not enforced is refused here instead.
    if (given(flags[flag])) throw new Error(`--${flag}: cgroup v2 has no kernel memory limit (kernel memory counts in --memory); drop the flag`);
  }
  for (const flag of ['l3-cache-schema', 'mem-bw-schema'] as const) {
    if (given(flags[flag])) throw new Error(`--${flag}: tsrun does not support Intel RDT; drop the flag`);
  }
  const memory = {
    ...optional('limit', flags.memory, (v) => memorySize(v, '--memory')),
    ...optional('reservation', flags['memory-reservation'], (v) => memorySize(v, '--memory-reservation')),
    ...optional('swap', flags['memory-swap'], (v) => memorySize(v, '--memory-swap')),
  };
  const cpu = {
    ...optional('shares', flags['cpu-share'], (v) => integer(v, '--cpu-share', false)),
    ...optional('quota', flags['cpu-quota'], (v) => integer(v, '--cpu-quota', true)),
    ...optional('burst', flags['cpu-burst'], (v) => integer(v, '--cpu-burst', false)),
    ...optional('period', flags['cpu-period'], (v) => integer(v, '--cpu-period', false)),
    ...optional('realtimeRuntime', flags['cpu-rt-runtime'], (v) => integer(v, '--cpu-rt-runtime', true)),
    ...optional('realtimePeriod', flags['cpu-rt-period'], (v) => integer(v, '--cpu-rt-period', false)),
    ...optional('cpus', flags['cpuset-cpus'], (v) => v),
    ...optional('mems', flags['cpuset-mems'], (v) => v),
    ...optional('idle', flags['cpu-idle'], (v) => integer(v, '--cpu-idle', true)),
  };
  const weight = given(flags['blkio-weight']) ? integer(flags['blkio-weight'], '--blkio-weight', false) : 0;
  return {
    ...(Object.keys(memory).length === 0 ? {} : { memory }),
    ...(Object.keys(cpu).length === 0 ? {} : { cpu }),
    ...(weight === 0 ? {} : { blockIO: { weight } }),
    ...(given(flags['pids-limit']) ? { pids: { limit: integer(flags['pids-limit'], '--pids-limit', true) } } : {}),
  };
}

function given(value: string | undefined): value is string {
  return value !== undefined && value !== '';
}

function optional<K extends string, V>(key: K, value: string | undefined, parse: (value: string) => V): { [P in K]?: V } {
  return (given(value) ? { [key]: parse(value) } : {}) as { [P in K]?: V };
}

function memorySize(value: string, flag: string): number {
  return value === '-1' ? -1 : parseMemorySize(value, flag);
}

function integer(value: string, flag: string, signed: boolean): number {
  if (!(signed ? /^[-+]?\d+$/ : /^\+?\d+$/).test(value)) {
    throw new Error(`invalid value for ${flag}: ${JSON.stringify(value)} is not ${signed ? 'an integer' : 'a non-negative integer'}`);
  }
  return Number(value);
}
