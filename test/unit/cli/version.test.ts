import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { versionText } from '../../../src/cli/version.js';

describe('versionText', () => {
  it('is laid out like runc --version', () => {
    const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    const lines = versionText().split('\n');
    expect(lines[0]).toBe(`tsrun version ${version}`);
    expect(lines[1]).toMatch(/^commit: ([0-9a-f]{40}|unknown)$/);
    expect(lines[2]).toBe('spec: 1.3.0');
    expect(lines[3]).toBe(`node: ${process.version}`);
  });
});
