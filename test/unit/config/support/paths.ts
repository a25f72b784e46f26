import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** The official runtime-spec 1.3.0 schemas and test corpus, kept next to the repository, never in it. */
export const sharedSpecDir = resolve(repoRoot, '../shared/oci-runtime-spec-v1.3.0');

/** Why tests that need the shared folder are skipped, or undefined when it is there. */
export const sharedSpecMissing: string | undefined = existsSync(sharedSpecDir)
  ? undefined
  : `official runtime-spec files not found at ${sharedSpecDir}`;

if (sharedSpecMissing !== undefined) console.warn(`skipping cross-checks: ${sharedSpecMissing}`);
