import { describe, expect, it } from 'vitest';
import { separateExecCommand } from '../../../src/cli/exec-argv.js';

describe('separateExecCommand', () => {
  it('puts "--" after the container id, so the command keeps its flags', () => {
    expect(separateExecCommand(['exec', 'c1', 'sh', '-c', 'x'])).toEqual(['exec', 'c1', '--', 'sh', '-c', 'x']);
  });

  it('skips global and exec flags and their values to find the id', () => {
    expect(separateExecCommand(['--root', '/r', '--debug', 'exec', '-t', '--cwd', '/tmp', '-e', 'A=1', '--user=5', 'c1', 'ls', '-l'])).toEqual([
      '--root', '/r', '--debug', 'exec', '-t', '--cwd', '/tmp', '-e', 'A=1', '--user=5', 'c1', '--', 'ls', '-l',
    ]);
  });

  it('leaves other commands, a command line that has "--" already, and exec without a command alone', () => {
    for (const args of [['kill', 'c1', 'KILL'], ['exec', 'c1', '--', 'ls'], ['exec', 'c1'], ['exec', '--process', 'p.json', 'c1'], ['--root', 'exec', 'list']]) {
      expect(separateExecCommand(args)).toEqual(args);
    }
  });
});
