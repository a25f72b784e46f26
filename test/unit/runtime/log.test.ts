import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configureLogging, formatLine, logger, reportError } from '../../../src/runtime/log.js';
import { logSettings } from '../../../src/cli/global-flags.js';
import { temporaryDir } from '../runtime/fixtures.js';

const now = new Date('2026-11-22T19:10:27.123Z');

afterEach(() => configureLogging({ format: 'text', debug: false }));

describe('formatLine', () => {
  it('writes logrus JSON: sorted keys, RFC 3339 time without fractions', () => {
    expect(formatLine('error', 'container does not exist', 'json', now)).toBe(
      '{"level":"error","msg":"container does not exist","time":"2026-11-22T19:10:27Z"}',
    );
  });

  it('writes logrus text, quoting values as logrus does', () => {
    expect(formatLine('error', 'container does not exist', 'text', now)).toBe(
      'time="2026-11-22T19:10:27Z" level=error msg="container does not exist"',
    );
    expect(formatLine('warning', 'plain-word_1.2/x@y^z+w', 'text', now)).toBe(
      'time="2026-11-22T19:10:27Z" level=warning msg=plain-word_1.2/x@y^z+w',
    );
    expect(formatLine('info', 'say "hi"\nbye', 'text', now)).toBe('time="2026-11-22T19:10:27Z" level=info msg="say \\"hi\\"\\nbye"');
  });

  it('writes logrus’s terminal form: coloured level, seconds since start, padded message', () => {
    expect(formatLine('error', 'oops', 'terminal', new Date())).toMatch(/^\x1b\[31mERRO\x1b\[0m\[0000\] oops {40}$/);
    expect(formatLine('warning', 'careful', 'terminal', new Date())).toMatch(/^\x1b\[33mWARN\x1b\[0m/);
  });
});

describe('logger', () => {
  it('appends to the --log file, and leaves debug lines out unless --debug', () => {
    const file = join(temporaryDir(), 'log');
    configureLogging({ file, format: 'json', debug: false });
    logger.debug('hidden');
    logger.info('one');
    configureLogging({ file, format: 'json', debug: true });
    logger.debug('two');
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line).msg);
    expect(lines).toEqual(['one', 'two']);
  });

  it('reportError puts the error in the log file', () => {
    const file = join(temporaryDir(), 'log');
    configureLogging({ file, format: 'text', debug: false });
    reportError('container c1 does not exist');
    expect(readFileSync(file, 'utf8')).toMatch(/^time="[^"]+" level=error msg="container c1 does not exist"\n$/);
  });

  it('names the log file it cannot open', () => {
    expect(() => configureLogging({ file: '/nonexistent/dir/log', format: 'text', debug: false })).toThrow(
      'failed to open log file /nonexistent/dir/log',
    );
  });
});

describe('logSettings', () => {
  it('reads --log, --log-format and --debug wherever they are', () => {
    expect(logSettings(['--log', '/l', 'list', '--debug', '--log-format=json'])).toEqual({ file: '/l', format: 'json', debug: true });
    expect(logSettings(['state', 'c1'])).toEqual({ format: 'text', debug: false });
    expect(logSettings(['--log-format', 'xml', 'list'])).toEqual({ format: 'text', debug: false });
  });
});
