// Turns ajv's error objects into problems a person can act on: the JSON path
// of the offending value, what it must be, and what it is.
//
// The validator is generated with `messages: false, verbose: true`: every
// message is written here from the error's keyword and parameters, the
// offending value (data) and the failing schema's description.

import type { ErrorObject } from 'ajv';
import type { ConfigProblem } from './config-error.js';
import { pointer } from './json-pointer.js';

/** One problem per distinct error of a validation run. */
export function describeSchemaErrors(errors: readonly ErrorObject[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const problem = describe(error, errors);
    if (problem === undefined) continue;
    const key = `${problem.location}\0${problem.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(problem);
    }
  }
  return problems;
}

function describe(error: ErrorObject, all: readonly ErrorObject[]): ConfigProblem | undefined {
  // Why each anyOf branch failed is folded into the anyOf's own message.
  if (all.some((other) => other.keyword === 'anyOf' && error.schemaPath.startsWith(other.schemaPath + '/'))) return undefined;
  // The error inside propertyNames (the one that carries propertyName) says it better.
  if (error.keyword === 'propertyNames') return undefined;

  const at = error.instancePath;
  const params = error.params as Record<string, unknown>;
  if (error.propertyName !== undefined) return describeKey(error, at + pointer(error.propertyName), params);

  const found = describeValue(error.data);
  switch (error.keyword) {
    case 'required':
      return { location: at + pointer(String(params['missingProperty'])), message: 'is required but missing; add it' };
    case 'dependentRequired':
      return {
        location: at + pointer(String(params['property'])),
        message: `needs "${String(params['missingProperty'])}" next to it; add that or remove this`,
      };
    case 'type':
      return { location: at || '/', message: `must be ${withArticle(String(params['type']))}, not ${found}` };
    case 'enum':
      return { location: at, message: `must be one of ${allowed(params)} (found ${found})` };
    case 'pattern': {
      const expected = description(error) ?? `of the form ${String(params['pattern'])}`;
      return { location: at, message: `must be ${expected} (found ${found})` };
    }
    case 'minimum':
    case 'maximum':
      return { location: at, message: `must be ${String(params['comparison'])} ${String(params['limit'])} (found ${found})` };
    case 'minItems':
      return { location: at, message: params['limit'] === 1 ? 'must not be empty' : `must have at least ${String(params['limit'])} entries` };
    case 'anyOf': {
      const options = all
        .filter((other) => other.keyword === 'required' && other.schemaPath.startsWith(error.schemaPath + '/'))
        .map((other) => String((other.params as Record<string, unknown>)['missingProperty']));
      return {
        location: at,
        message: options.length > 0 ? `must set at least one of ${options.join(', ')}` : 'does not match any accepted form',
      };
    }
    default:
      return { location: at || '/', message: `breaks the schema rule at ${error.schemaPath}` };
  }
}

function describeKey(error: ErrorObject, location: string, params: Record<string, unknown>): ConfigProblem {
  switch (error.keyword) {
    case 'minLength':
      return { location, message: 'keys must not be empty' };
    case 'enum':
      return { location, message: `is not an accepted key; use one of ${allowed(params)}` };
    default:
      return { location, message: `is not an accepted key (schema rule at ${error.schemaPath})` };
  }
}

function description(error: ErrorObject): string | undefined {
  const schema = error.parentSchema as { description?: unknown } | undefined;
  return typeof schema?.description === 'string' ? schema.description : undefined;
}

function allowed(params: Record<string, unknown>): string {
  return (params['allowedValues'] as unknown[]).map(String).join(', ');
}

function withArticle(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value);
  return `${typeof value} ${String(value)}`;
}
