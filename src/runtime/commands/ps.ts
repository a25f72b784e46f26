import { spawnSync } from 'node:child_process';
import { Container } from '../container/container.js';
import type { GlobalOptions } from '../options.js';

/**
 * `tsrun ps`: `--format json` prints the pids as a JSON array; the table is
 * ps(1) run with `psArgs` (default -ef), keeping its header and the lines
 * whose PID column is one of the container's, as runc does.
 */
export function ps(g: GlobalOptions, id: string, format: 'table' | 'json', psArgs: readonly string[]): string {
  const pids = Container.read(g.root, id)
    .requireCgroup('listed')
    .pids()
    .sort((a, b) => a - b);
  if (format === 'json') return `${JSON.stringify(pids)}\n`;
  const args = psArgs.length === 0 ? ['-ef'] : [...psArgs];
  const result = spawnSync('ps', args, { encoding: 'utf8' });
  if (result.error !== undefined) throw new Error(`ps ${args.join(' ')}: ${result.error.message}; tsrun ps needs ps(1) on the host`);
  if (result.status !== 0) throw new Error(`ps ${args.join(' ')} exited with ${result.status ?? result.signal}: ${result.stderr.trim()}`);
  return filterPsTable(result.stdout, pids);
}

/** ps output reduced to its header and the lines of `pids`. */
export function filterPsTable(output: string, pids: readonly number[]): string {
  const [header = '', ...lines] = output.split('\n');
  const column = header.trim().split(/\s+/).indexOf('PID');
  if (column === -1) throw new Error(`ps printed no PID column (header: ${header.trim()}); pass ps options that include it`);
  const wanted = new Set(pids);
  const kept = lines.filter((line) => line.trim() !== '' && wanted.has(Number(line.trim().split(/\s+/)[column])));
  return [header, ...kept].map((line) => `${line}\n`).join('');
}
