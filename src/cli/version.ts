import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SPEC_VERSION } from '../config/spec-version.js';

/** `tsrun --version`, laid out like `runc --version`. */
export function versionText(): string {
  const root = packageRoot();
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  return [`tsrun version ${version}`, `commit: ${gitCommit(root) ?? 'unknown'}`, `spec: ${SPEC_VERSION}`, `node: ${process.version}`].join('\n');
}

// This file runs from src/ under vitest and from dist/src/ when built.
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('tsrun installation is broken: no package.json above the CLI');
    dir = parent;
  }
  return dir;
}

/** HEAD of the checkout tsrun runs from, read without spawning git (an installed copy has none). */
function gitCommit(root: string): string | undefined {
  const git = join(root, '.git');
  const head = readIfPresent(join(git, 'HEAD'));
  if (head === undefined || !head.startsWith('ref: ')) return head;
  const ref = head.slice('ref: '.length);
  return readIfPresent(join(git, ref)) ?? packedRef(readIfPresent(join(git, 'packed-refs')), ref);
}

function packedRef(packedRefs: string | undefined, ref: string): string | undefined {
  const line = packedRefs?.split('\n').find((entry) => entry.endsWith(` ${ref}`));
  return line?.split(' ')[0];
}

function readIfPresent(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}
