// The official runtime-spec JSON Schemas, compiled at test time only: they are
// another project's text and are never copied into this repository.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { sharedSpecDir } from './paths.js';

let ajv: Ajv | undefined;

function loadAll(): Ajv {
  // The files declare draft-04, which ajv 8 does not ship; they use nothing
  // that reads differently under draft-07, so the declaration is dropped.
  const instance = new Ajv({ strict: false, allErrors: true });
  for (const name of readdirSync(sharedSpecDir).filter((file) => file.endsWith('.json'))) {
    // defs.json writes one reference as "#definitions/uint32" (no slash), which
    // is not a JSON pointer; read it as the pointer it means.
    const text = readFileSync(join(sharedSpecDir, name), 'utf8').replaceAll('"#definitions/', '"#/definitions/');
    const schema = JSON.parse(text) as Record<string, unknown>;
    delete schema['$schema'];
    instance.addSchema(schema, name);
  }
  return instance;
}

export function officialValidator(name: 'config-schema.json' | 'features-schema.json' | 'state-schema.json'): ValidateFunction {
  ajv ??= loadAll();
  const validate = ajv.getSchema(name);
  if (validate === undefined) throw new Error(`${name} is not among the official schemas in ${sharedSpecDir}`);
  return validate;
}

export interface CorpusFile {
  name: string;
  text: string;
}

/** The spec's own example configs: good ones every validator must accept, bad ones it must refuse. */
export function corpus(kind: 'good' | 'bad'): CorpusFile[] {
  const dir = join(sharedSpecDir, 'test', 'config', kind);
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));
}

/** Parses a corpus file; undefined when it is not even JSON (which counts as refused). */
export function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
