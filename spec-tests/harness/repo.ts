import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root, found from this module whether it runs from spec-tests/ or dist/spec-tests/. */
export function repoRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${import.meta.dirname}`);
    dir = parent;
  }
  return dir;
}
