import { describe, expect, it } from 'vitest';
import { filterPsTable } from '../../../../src/runtime/commands/ps.js';

const PS_EF = [
  'UID          PID    PPID  C STIME TTY          TIME CMD',
  'root           1       0  0 10:00 ?        00:00:01 /sbin/init',
  'root         421       1  0 10:01 ?        00:00:00 sleep 1000',
  'root        4210       1  0 10:01 ?        00:00:00 sh -c while :; do :; done',
  '',
].join('\n');

describe('filterPsTable', () => {
  it('keeps the header and the lines whose PID column is the container\'s', () => {
    expect(filterPsTable(PS_EF, [421, 99])).toBe(
      'UID          PID    PPID  C STIME TTY          TIME CMD\nroot         421       1  0 10:01 ?        00:00:00 sleep 1000\n',
    );
  });

  it('finds the PID column wherever ps puts it', () => {
    expect(filterPsTable('  PID TTY          TIME CMD\n 4210 ?        00:00:00 sh\n  421 ?        00:00:00 sleep\n', [4210])).toBe(
      '  PID TTY          TIME CMD\n 4210 ?        00:00:00 sh\n',
    );
  });

  it('refuses ps output without a PID column', () => {
    expect(() => filterPsTable('USER COMMAND\nroot sh\n', [1])).toThrow('ps printed no PID column (header: USER COMMAND); pass ps options that include it');
  });
});
