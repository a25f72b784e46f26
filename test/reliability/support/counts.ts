import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from '../../integration/support/harness.js';

/** What a reliability test tried and found, printed and kept for .ci/summarize.mjs. */
export interface Counts {
  readonly test: string;
  readonly cases: number;
  readonly failures: number;
  readonly leftovers: number;
  /** How the cases were run (in-process or through bin/tsrun), seeds, time. */
  readonly note: string;
}

const REPORT = process.env.TSRUN_RELIABILITY_REPORT ?? join(repoRoot, '.scratch/reliability.jsonl');

export function recordCounts(counts: Counts): void {
  console.log(`reliability: ${counts.test}: ${counts.cases} cases, ${counts.failures} failures, ${counts.leftovers} leftovers (${counts.note})`);
  mkdirSync(dirname(REPORT), { recursive: true });
  appendFileSync(REPORT, `${JSON.stringify(counts)}\n`);
}
