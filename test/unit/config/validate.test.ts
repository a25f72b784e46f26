import './support/ensure-validator.js';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/config-error.js';
import { defaultSpec } from '../../../src/config/default-spec.js';
import { findJsonSyntaxError } from '../../../src/config/json-syntax.js';
import type { Spec } from '../../../src/config/types.js';
import { MAX_NESTING } from '../../../src/config/nesting-limit.js';
import { loadSpec, MAX_CONFIG_BYTES, validateSpec } from '../../../src/config/validate.js';

function configError(action: () => unknown): ConfigError {
  try {
    action();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, but the config was accepted');
}

function valid(): Spec & { linux: NonNullable<Spec['linux']>; process: NonNullable<Spec['process']> } {
  const spec = defaultSpec({ rootless: false });
  if (spec.linux === undefined || spec.process === undefined) throw new Error('the default spec lost its linux or process part');
  return { ...spec, linux: spec.linux, process: spec.process };
}

describe('validateSpec', () => {
  it('returns the config it was given when it is valid', () => {
    const spec = valid();
    expect(validateSpec(spec, { onWarning: () => {} })).toBe(spec);
  });

  it('names the JSON path and the allowed values of a bad enum', () => {
    const spec: unknown = { ...valid(), linux: { namespaces: [{ type: 'pid' }, { type: 'uts' }, { type: 'net' }] } };
    expect(configError(() => validateSpec(spec)).message).toBe(
      'config.json: /linux/namespaces/2/type: must be one of pid, network, mount, ipc, uts, user, cgroup, time (found "net")',
    );
  });

  it('reports every schema problem, one per line', () => {
    const spec: unknown = { ...valid(), hostname: 7, process: { ...valid().process, cwd: undefined, terminal: 'yes' } };
    const error = configError(() => validateSpec(spec));
    expect(error.problems.map((problem) => problem.location).sort()).toEqual(['/hostname', '/process/cwd', '/process/terminal']);
    expect(error.message.split('\n')).toHaveLength(3);
    expect(error.file).toBe('config.json');
  });

  it('reports every semantic problem, one per line', () => {
    const spec = valid();
    spec.process.cwd = 'relative';
    spec.linux.namespaces = [{ type: 'pid' }, { type: 'pid' }, { type: 'uts' }];
    const error = configError(() => validateSpec(spec));
    expect(error.message).toBe(
      [
        'config.json: /process/cwd: must be an absolute path inside the container, such as "/" (found "relative")',
        'config.json: /linux/namespaces/1/type: is already listed earlier; list each namespace type once (found "pid")',
      ].join('\n'),
    );
  });

  it('does not run the semantic rules on a config that fails the schema', () => {
    const spec: unknown = { ...valid(), process: { ...valid().process, cwd: 5 } };
    expect(configError(() => validateSpec(spec)).problems).toEqual([
      { location: '/process/cwd', message: 'must be a string, not number 5' },
    ]);
  });

  it('passes warnings to onWarning and still accepts the config', () => {
    const spec = valid();
    spec.process.terminal = false;
    spec.process.consoleSize = { height: 24, width: 80 };
    const warnings: string[] = [];
    expect(validateSpec(spec, { onWarning: (line) => warnings.push(line) })).toBe(spec);
    expect(warnings).toEqual(['config.json: /process/consoleSize: is ignored because process.terminal is not true']);
  });

  it(`refuses nesting deeper than ${MAX_NESTING} levels, at the first value too deep, before JSON.stringify could overflow the stack (fuzzer seeds 0x1b905369 case 4535, 0x0e case 5880)`, () => {
    const nested = (levels: number): unknown => {
      let value: unknown = 1;
      for (let i = 0; i < levels; i++) value = { a: value };
      return value;
    };
    // process.user is at depth 2: MAX_NESTING - 2 more levels is the deepest allowed.
    const deepest = { ...valid(), process: { ...valid().process, user: nested(MAX_NESTING - 2) } };
    expect(() => validateSpec(deepest)).not.toThrow(/nested/);
    for (const levels of [MAX_NESTING - 1, 100_000]) {
      const error = configError(() => validateSpec({ ...valid(), linux: { ...valid().linux, resources: nested(levels) } }));
      expect(error.problems).toHaveLength(1);
      expect(error.problems[0]?.location).toBe(`/linux/resources${'/a'.repeat(MAX_NESTING - 2)}`);
      expect(error.message).toContain(`is nested more than ${MAX_NESTING} levels deep`);
    }
    // Arrays count as objects do.
    let list: unknown = [];
    for (let i = 0; i < 1_000; i++) list = [list];
    expect(configError(() => validateSpec({ ...valid(), x: list })).problems[0]?.location).toBe(`/x${'/0'.repeat(MAX_NESTING - 1)}`);
  });

  it('refuses what is not an object at all', () => {
    expect(configError(() => validateSpec([])).message).toBe('config.json: /: must be an object, not an array');
  });
});

describe('loadSpec', () => {
  const bundles = mkdtempSync(join(tmpdir(), 'tsrun-config-'));
  afterAll(() => rmSync(bundles, { recursive: true, force: true }));

  function bundleWith(text: string): string {
    const dir = mkdtempSync(join(bundles, 'bundle-'));
    writeFileSync(join(dir, 'config.json'), text);
    return dir;
  }

  it('reads and validates <bundle>/config.json', () => {
    const spec = valid();
    expect(loadSpec(bundleWith(JSON.stringify(spec, null, 2)))).toEqual(spec);
  });

  it('accepts a file that starts with a byte-order mark', () => {
    expect(loadSpec(bundleWith('\uFEFF' + JSON.stringify(valid()))).hostname).toBe('tsrun');
  });

  it('says where a syntax error is, by line and column', () => {
    const text = '{\n  "ociVersion": "1.3.0",\n  "root": { "path": "rootfs", }\n}\n';
    expect(configError(() => loadSpec(bundleWith(text))).message).toBe(
      'config.json: line 3, column 31: is not valid JSON: expected a property name in double quotes, found "}"',
    );
  });

  it('explains a missing config.json', () => {
    const dir = mkdtempSync(join(bundles, 'empty-'));
    const message = configError(() => loadSpec(dir)).message;
    expect(message).toContain(`cannot read ${join(dir, 'config.json')}: it does not exist`);
  });

  it('refuses a config.json over the size limit, naming the limit', () => {
    const spec = { ...valid(), annotations: { big: 'x'.repeat(MAX_CONFIG_BYTES) } };
    expect(configError(() => loadSpec(bundleWith(JSON.stringify(spec)))).message).toMatch(/^config\.json: is larger than 2097152 bytes \(2 MiB\), the limit/);
  });

  it('stops reading at the limit when the file has no size (a link to /dev/zero)', () => {
    const dir = mkdtempSync(join(bundles, 'zero-'));
    symlinkSync('/dev/zero', join(dir, 'config.json'));
    expect(configError(() => loadSpec(dir)).message).toContain('is larger than 2097152 bytes');
  });

  it('validates what it read', () => {
    const message = configError(() => loadSpec(bundleWith('{"ociVersion": "1.3.0", "root": {"path": "rootfs"}, "process": {"cwd": "/"}}'))).message;
    expect(message).toBe('config.json: /process/args: must name the program to run: give at least one entry, such as ["sh"]');
  });
});

describe('findJsonSyntaxError', () => {
  it.each([
    ['{]', 1, 2, 'expected a property name in double quotes, found "]"'],
    ['', 1, 1, 'expected a value, found end of file'],
    ['{"a": 1', 1, 8, 'expected "," or "}", found end of file'],
    ['{"a": 1}}', 1, 9, 'unexpected text after the end of the JSON value'],
    ['[1,\n 2,\n ]', 3, 2, 'expected a value, found "]"'],
    ['{\n  "a": tru\n}', 2, 8, 'expected a value, found "t"'],
    ['{"a": "x\ty"}', 1, 9, 'control character (such as a newline or tab) inside a string; write it as an escape like \\n'],
    ['{"a": "\\x"}', 1, 8, 'invalid escape \\x'],
    ['{"a": "abc', 1, 7, 'string is never closed'],
    ['{"a" 1}', 1, 6, 'expected ":" after the property name, found "1"'],
    ['[01]', 1, 3, 'expected "," or "]", found "1"'],
  ])('%j fails at line %i, column %i', (text, line, column, message) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(findJsonSyntaxError(text)).toEqual({ line, column, message });
  });

  it('agrees with JSON.parse on whether thousands of damaged documents are valid', () => {
    const original = JSON.stringify({ ...valid(), annotations: { 'a\\b': 'ü "q"', n: '-1.5e3' }, x: [-0.5, 1e10, null, true] }, null, 1);
    // A fixed-seed generator, so that a failure can be replayed.
    let seed = 42;
    const random = (below: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % below;
    };
    const alphabet = '{}[]",:\\ 0123456789-+.eEtrufalsn\n\tx';
    let disagreements = 0;
    let invalid = 0;
    for (let round = 0; round < 3000; round++) {
      const at = random(original.length);
      const damaged =
        round % 2 === 0
          ? original.slice(0, at) + original.slice(at + 1)
          : original.slice(0, at) + alphabet.charAt(random(alphabet.length)) + original.slice(at);
      let parses = true;
      try {
        JSON.parse(damaged);
      } catch {
        parses = false;
        invalid++;
      }
      if (parses !== (findJsonSyntaxError(damaged) === undefined)) disagreements++;
    }
    expect(invalid).toBeGreaterThan(500);
    expect(disagreements).toBe(0);
  });

  it('copes with very deep nesting', () => {
    expect(findJsonSyntaxError('['.repeat(100_000) + ']'.repeat(100_000))).toBeUndefined();
    expect(findJsonSyntaxError('['.repeat(100_000))?.message).toBe('expected a value, found end of file');
  });
});
