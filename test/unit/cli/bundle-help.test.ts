import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The bundle (.ci/bundle.mjs) swaps yargs' string-width for an ASCII one, to
// save its start-up cost. Every help text must come out the same as from the
// unbundled build (dist/src/, tsc's output), which loads the real one.
const repo = resolve(import.meta.dirname, '../../..');
const bundled = join(repo, 'dist/cli/main.js');
const unbundled = join(repo, 'dist/src/cli/main.js');
const built = existsSync(bundled) && existsSync(unbundled);
if (!built) console.warn('skipping the bundle help check: tsrun is not built (npm run build)');

const COMMANDS = ['create', 'start', 'run', 'state', 'list', 'kill', 'delete', 'exec', 'spec', 'features', 'pause', 'resume', 'update', 'events', 'ps'];

function help(main: string, args: readonly string[]): string {
  const r = spawnSync(process.execPath, [main, ...args, '--help'], { encoding: 'utf8', env: { ...process.env, NODE_COMPILE_CACHE: '' } });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe.skipIf(!built)('the bundled CLI', () => {
  it.each([[], ...COMMANDS.map((c) => [c])])('prints the same help as the unbundled one: tsrun %s --help', (...args: string[]) => {
    const text = help(bundled, args);
    expect(text.length).toBeGreaterThan(100);
    expect(text).toBe(help(unbundled, args));
  });
});
