// Reading and checking a bundle's config.json: JSON syntax, then the schema
// (ahead-of-time compiled by src/config/schema/compile.mjs, see `npm run
// build`), then the semantic rules. Every problem found at a stage is reported
// together; a later stage only runs once the earlier ones passed, because the
// semantic rules rely on the shapes the schema guarantees.

import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, formatProblem } from './config-error.js';
import { validate as matchesSchema } from './generated/config-validator.js';
import { findJsonSyntaxError } from './json-syntax.js';
import { MAX_NESTING, tooDeep } from './nesting-limit.js';
import { describeSchemaErrors } from './schema-errors.js';
import { checkSemanticRules } from './semantic-rules.js';
import type { Spec } from './types.js';

const CONFIG_FILE = 'config.json';

/**
 * The largest config.json (or process.json) tsrun reads. Parsing and checking
 * JSON costs up to 100 times its size in memory (measured: 947 MB for 30 MB
 * of short env entries, 418 MB for 4 MiB of mounts that each get a warning
 * and an error); real configs are tens of KiB, and Kubernetes caps a whole
 * pod at 1.5 MiB. 2 MiB keeps a create near 200 MB whatever the file holds.
 */
export const MAX_CONFIG_BYTES = 2 * 1024 * 1024;

/**
 * The text of a JSON input of at most MAX_CONFIG_BYTES, or undefined when it is
 * larger: reading stops there, since a file's size is not to be trusted (a
 * FIFO or /dev/zero has none). Read errors are thrown as they come.
 */
export function readLimited(path: string): string | undefined {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let length = 0;
    while (length <= MAX_CONFIG_BYTES) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) return buffer.toString('utf8', 0, length);
      length += n;
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** What to say about an input larger than MAX_CONFIG_BYTES. */
export function tooLargeMessage(): string {
  return `is larger than ${MAX_CONFIG_BYTES} bytes (${MAX_CONFIG_BYTES / 1024 / 1024} MiB), the limit tsrun reads; real configs are far smaller: look for a huge env, annotation or array`;
}

export interface ValidateOptions {
  /** Receives each warning as one formatted line; by default they go to stderr. */
  onWarning?: (line: string) => void;
}

function printWarning(line: string): void {
  process.stderr.write(`warning: ${line}\n`);
}

/** Checks a parsed config.json; returns it typed, or throws a ConfigError listing every problem. */
export function validateSpec(value: unknown, options: ValidateOptions = {}): Spec {
  const deep = tooDeep(value);
  if (deep !== undefined) {
    throw new ConfigError(CONFIG_FILE, [{ location: deep, message: `is nested more than ${MAX_NESTING} levels deep, the limit tsrun takes (real configs nest fewer than 10)` }]);
  }
  if (!matchesSchema(value)) {
    throw new ConfigError(CONFIG_FILE, describeSchemaErrors(matchesSchema.errors ?? []));
  }
  const { errors, warnings } = checkSemanticRules(value);
  const warn = options.onWarning ?? printWarning;
  for (const warning of warnings) warn(formatProblem(CONFIG_FILE, warning));
  if (errors.length > 0) throw new ConfigError(CONFIG_FILE, errors);
  return value;
}

/** Reads and checks `<bundleDir>/config.json`. */
export function loadSpec(bundleDir: string, options: ValidateOptions = {}): Spec {
  const path = join(bundleDir, CONFIG_FILE);
  let text: string | undefined;
  try {
    text = readLimited(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (error as Error).message;
    throw new ConfigError(CONFIG_FILE, [
      { location: '', message: `cannot read ${path}: ${reason}; is ${bundleDir} a bundle? (tsrun spec writes a config.json)` },
    ]);
  }
  if (text === undefined) throw new ConfigError(CONFIG_FILE, [{ location: '', message: tooLargeMessage() }]);
  return validateSpec(parseJson(text), options);
}

function parseJson(text: string): unknown {
  // Editors on some systems save a byte-order mark, which JSON.parse refuses.
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  try {
    return JSON.parse(body) as unknown;
  } catch (error) {
    const where = findJsonSyntaxError(body);
    throw new ConfigError(CONFIG_FILE, [
      where === undefined
        ? { location: '', message: `is not valid JSON: ${(error as Error).message}` }
        : { location: `line ${where.line}, column ${where.column}`, message: `is not valid JSON: ${where.message}` },
    ]);
  }
}
