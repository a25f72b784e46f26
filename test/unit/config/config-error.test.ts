import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/config-error.js';

describe('ConfigError', () => {
  it('lists every problem while there are few', () => {
    const error = new ConfigError('config.json', [
      { location: '/process/cwd', message: 'must be absolute' },
      { location: '', message: 'is empty' },
    ]);
    expect(error.message).toBe('config.json: /process/cwd: must be absolute\nconfig.json: is empty');
  });

  it('lists the first five, then a count: an engine passes the message on in one line of its log', () => {
    const problems = Array.from({ length: 40 }, (_, i) => ({ location: `/mounts/${i}`, message: 'is wrong' }));
    const error = new ConfigError('config.json', problems);
    const lines = error.message.split('\n');
    expect(lines).toHaveLength(6);
    expect(lines.slice(0, 5)).toEqual([0, 1, 2, 3, 4].map((i) => `config.json: /mounts/${i}: is wrong`));
    expect(lines[5]).toBe('config.json: and 35 more problems');
    expect(error.problems).toHaveLength(40);
  });
});
