import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(join(repo, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => relative(repo, join(e.parentPath, e.name)));
}

/** Every module a source file imports (static or dynamic), as repository paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(repo, file), 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => relative(repo, resolve(repo, file, '..', m[1] as string)));
}

function violations(dir: string, forbidden: (target: string) => boolean): string[] {
  return sources(dir).flatMap((file) => importsOf(file).filter(forbidden).map((target) => `${file} imports ${target}`));
}

// The layers of docs/ARCHITECTURE.md: each imports only the layers below it.
describe('layers', () => {
  it('the runtime reaches ffi/ only through src/linux/kernel.ts', () => {
    expect(violations('src/runtime', (t) => t.startsWith('ffi/'))).toEqual([]);
  });

  it('nothing below the CLI imports it, nothing below the runtime imports the runtime', () => {
    expect(violations('src/runtime', (t) => t.startsWith('src/cli/'))).toEqual([]);
    expect(violations('src/linux', (t) => t.startsWith('src/runtime/') || t.startsWith('src/cli/'))).toEqual([]);
    expect(violations('src/config', (t) => t.startsWith('src/runtime/') || t.startsWith('src/linux/'))).toEqual([]);
  });

  it('ffi/ knows nothing of the layers above it', () => {
    expect(violations('ffi', (t) => t.startsWith('src/'))).toEqual([]);
  });

  it('the runtime has rooms: at most a dozen files at its top', () => {
    const top = readdirSync(join(repo, 'src/runtime'), { withFileTypes: true }).filter((e) => e.isFile());
    expect(top.length).toBeLessThanOrEqual(12);
  });
});
