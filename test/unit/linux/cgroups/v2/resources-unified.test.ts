import { describe, expect, it } from 'vitest';
import { planResources } from '../../../../../src/linux/cgroups/v2/resources/plan-resources.js';

const plan = (unified: Record<string, string>) => planResources({ unified }).writes.map((w) => [w.controller, w.file, w.value, w.field]);

describe('unified', () => {
  it('writes each key as given, the controller taken from its prefix; files unknown to the spec included', () => {
    expect(plan({ 'memory.high': '1073741824', 'hugetlb.1GB.max': '1073741824', 'cpu.uclamp.min': '10.5', 'misc.max': 'res_a 1' })).toEqual([
      ['memory', 'memory.high', '1073741824', 'linux.resources.unified["memory.high"]'],
      ['hugetlb', 'hugetlb.1GB.max', '1073741824', 'linux.resources.unified["hugetlb.1GB.max"]'],
      ['cpu', 'cpu.uclamp.min', '10.5', 'linux.resources.unified["cpu.uclamp.min"]'],
      ['misc', 'misc.max', 'res_a 1', 'linux.resources.unified["misc.max"]'],
    ]);
  });

  it('writes a value of several lines one line at a time (io.max takes one device per write)', () => {
    expect(plan({ 'io.max': '259:0 rbps=2097152 wiops=120\n253:0 rbps=2097152 wiops=120\n' })).toEqual([
      ['io', 'io.max', '259:0 rbps=2097152 wiops=120', 'linux.resources.unified["io.max"]'],
      ['io', 'io.max', '253:0 rbps=2097152 wiops=120', 'linux.resources.unified["io.max"]'],
    ]);
    expect(plan({ 'memory.high': '' })).toEqual([]);
  });

  it('accepts core cgroup.* files that are not the runtime\'s, with no controller', () => {
    expect(plan({ 'cgroup.max.descendants': '10', 'cgroup.pressure': '0' })).toEqual([
      [undefined, 'cgroup.max.descendants', '10', 'linux.resources.unified["cgroup.max.descendants"]'],
      [undefined, 'cgroup.pressure', '0', 'linux.resources.unified["cgroup.pressure"]'],
    ]);
  });

  it.each(['cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control', 'cgroup.type', 'cgroup.freeze', 'cgroup.kill'])('refuses %s, which the runtime manages', (key) => {
    expect(() => plan({ [key]: '1' })).toThrow(`linux.resources.unified["${key}"]: ${key} is managed by the runtime`);
  });

  it.each(['../memory.max', 'sub/memory.max', '/memory.max', 'memory..max', 'memory.max\0'])('refuses %j: a key names one file, no path', (key) => {
    expect(() => plan({ [key]: '1' })).toThrow(`linux.resources.unified[${JSON.stringify(key)}]: a key names one file of the container's cgroup: no "/", "..", or NUL`);
  });

  it.each(['memory', '.max', 'Memory.max', 'memory.', '1x.max', ''])('refuses %j: not "<controller>.<file>"', (key) => {
    expect(() => plan({ [key]: '1' })).toThrow(`linux.resources.unified[${JSON.stringify(key)}]: a key is "<controller>.<file>", such as "memory.high" or "io.max"`);
  });
});
