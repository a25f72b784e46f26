import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { lastLine, runCommand } from './exec.js';

/** A runtime binary the suite is run against, under the name its table column gets. */
export interface Runtime {
  readonly name: string;
  /** Absolute path: the suite resolves $RUNTIME itself, and relative paths would follow its cwd. */
  readonly path: string;
}

/** Parses `name=path` (or a bare path, named after its file); a bare name is looked up on PATH. */
export function parseRuntime(spec: string): Runtime {
  const equals = spec.indexOf('=');
  const name = equals > 0 ? spec.slice(0, equals) : (spec.split('/').pop() ?? spec);
  const target = equals > 0 ? spec.slice(equals + 1) : spec;
  if (name === '' || target === '') throw new Error(`runtime "${spec}": expected name=path`);
  return { name, path: resolveBinary(target) };
}

function resolveBinary(target: string): string {
  if (target.includes('/')) {
    const path = isAbsolute(target) ? target : resolve(target);
    // Caught here, or every program would fail on its own with the same exec error.
    if (!isExecutable(path)) throw new Error(`runtime ${path} is not an executable file`);
    return path;
  }
  const found = (process.env['PATH'] ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '')
    .map((dir) => join(dir, target))
    .find(isExecutable);
  if (found === undefined) throw new Error(`runtime "${target}" is not on PATH`);
  return found;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** First line of `<runtime> --version`, or why there is none. */
export async function runtimeVersion(runtime: Runtime): Promise<string> {
  const result = await runCommand(runtime.path, ['--version'], { timeoutMs: 30_000 });
  if (result.code === 0) return result.stdout.trim().split('\n')[0] ?? '';
  return `unavailable (${result.spawnError ?? (lastLine(result.stderr) || `exit ${result.code ?? result.signal}`)})`;
}
