import type * as fs from 'node:fs';

/**
 * node:fs whose readFileSync answers from `files()` first (by path) and
 * reads the real file otherwise: for `vi.mock('node:fs', …)` in tests that
 * need a particular host's /proc files.
 */
export function withReadFileOverlay(actual: typeof fs, files: () => Record<string, string> | undefined): typeof fs {
  const readFileSync = ((path: unknown, ...rest: unknown[]) => {
    const text = typeof path === 'string' ? files()?.[path] : undefined;
    if (text !== undefined) return text;
    return (actual.readFileSync as (...args: unknown[]) => unknown)(path, ...rest);
  }) as typeof actual.readFileSync;
  return { ...actual, readFileSync, default: { ...actual, readFileSync } } as typeof fs;
}
