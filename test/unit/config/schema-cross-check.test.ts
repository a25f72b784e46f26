// Our config schema against the spec's own test corpus and against the official
// schema: both must give the same verdict everywhere except the documented
// places where ours is deliberately stricter.
import './support/ensure-validator.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/config-error.js';
import { validate as ourSchema } from '../../../src/config/generated/config-validator.js';
import { validateSpec } from '../../../src/config/validate.js';
import { MUTATIONS, applyMutation } from './support/mutations.js';
import { corpus, officialValidator, parseOrUndefined } from './support/official-spec.js';
import { sharedSpecDir, sharedSpecMissing } from './support/paths.js';

const withSharedSpec = sharedSpecMissing === undefined;

function accepts(validate: (value: unknown) => boolean, text: string): boolean {
  const value = parseOrUndefined(text);
  return value !== undefined && validate(value);
}

describe.skipIf(!withSharedSpec)('the spec test corpus', () => {
  const good = withSharedSpec ? corpus('good') : [];
  const bad = withSharedSpec ? corpus('bad') : [];

  it('is there to test against', () => {
    expect(good.length).toBeGreaterThanOrEqual(5);
    expect(bad.length).toBeGreaterThanOrEqual(4);
  });

  it.each(good.map((file) => [file.name, file.text]))('good/%s is accepted by our schema and the official one', (_, text) => {
    expect(accepts(ourSchema, text), JSON.stringify(ourSchema.errors)).toBe(true);
    expect(accepts(officialValidator('config-schema.json'), text)).toBe(true);
  });

  it.each(bad.map((file) => [file.name, file.text]))('bad/%s is refused by our schema and the official one', (_, text) => {
    expect(accepts(ourSchema, text)).toBe(false);
    expect(accepts(officialValidator('config-schema.json'), text)).toBe(false);
  });
});

describe.skipIf(!withSharedSpec)('variations of spec-example.json', () => {
  const example: unknown = withSharedSpec
    ? JSON.parse(readFileSync(join(sharedSpecDir, 'test/config/good/spec-example.json'), 'utf8'))
    : undefined;

  it('cover enough cases of each verdict', () => {
    const count = (verdict: string): number => MUTATIONS.filter((mutation) => mutation.verdict === verdict).length;
    expect(count('both refuse')).toBeGreaterThanOrEqual(30);
    expect(count('both accept')).toBeGreaterThanOrEqual(10);
    expect(count('only ours refuses')).toBeGreaterThanOrEqual(10);
  });

  it.each(MUTATIONS.map((mutation) => [mutation.name, mutation]))('%s', (_, mutation) => {
    const changed = applyMutation(example, mutation);
    expect(changed, 'the mutation must change the document').not.toEqual(example);
    const official = officialValidator('config-schema.json')(changed);
    const ours = ourSchema(changed);
    expect({ ours, official }).toEqual({
      ours: mutation.verdict === 'both accept' || mutation.verdict === 'only ours accepts',
      official: mutation.verdict === 'both accept' || mutation.verdict === 'only ours refuses',
    });
  });

  it.each(MUTATIONS.filter((mutation) => mutation.verdict === 'both refuse' || mutation.verdict === 'only ours refuses').map((mutation) => [mutation.name, mutation]))(
    'refusing "%s" names the changed JSON path',
    (_, mutation) => {
      const changed = applyMutation(example, mutation);
      const error = captureConfigError(() => validateSpec(changed));
      const [changedPath] = mutation.changes[0] ?? [];
      expect(error.message).toContain(`config.json: ${String(changedPath)}`);
    },
  );

  it('every deliberate difference says which spec rule it follows', () => {
    for (const mutation of MUTATIONS.filter((each) => each.verdict === 'only ours refuses' || each.verdict === 'only ours accepts')) {
      expect(mutation.why, mutation.name).toMatch(/\S/);
    }
  });
});

function captureConfigError(action: () => unknown): ConfigError {
  try {
    action();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, but the config was accepted');
}
