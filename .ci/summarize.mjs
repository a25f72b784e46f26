// Prints the one summary line CI reads ("N passed, N failed, N skipped"),
// summed over vitest's JSON reports (the host's run and the guest's boots),
// after the reliability counts (a .jsonl file of test/reliability/support/counts.ts)
// and the first lines of each failed test's message: CI keeps only the tail of
// the output, so a failure must be readable there.
// A report that is missing (its run never got as far as writing one) is said so.
import { existsSync, readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) {
    console.log(`no test report at ${file}: that run did not finish (see its output above)`);
    continue;
  }
  if (file.endsWith('.jsonl')) {
    for (const line of readFileSync(file, 'utf8').trim().split('\n').filter(Boolean)) {
      const c = JSON.parse(line);
      console.log(`reliability: ${c.test}: ${c.cases} cases, ${c.failures} failures, ${c.leftovers} leftovers (${c.note})`);
    }
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  for (const suite of report.testResults ?? []) {
    for (const t of suite.assertionResults ?? []) {
      if (t.status === 'failed') failures.push(`${suite.name}: ${t.fullName}\n    ${(t.failureMessages ?? []).join('\n').split('\n').slice(0, 12).join('\n    ').slice(0, 1500)}`);
    }
  }
}
for (const f of failures.slice(0, 5)) console.log(`failed: ${f}`);
if (failures.length > 5) console.log(`failed: ${failures.length - 5} more (see the output above)`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
