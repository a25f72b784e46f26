import { resolve } from 'node:path';
import type { LogFormat, LogSettings } from '../runtime/log.js';
import type { GlobalOptions } from '../runtime/options.js';
import { defaultRoot } from './default-root.js';

/** A `state <id>` command line, read without yargs. */
export interface FastState {
  readonly global: GlobalOptions;
  readonly log: LogSettings;
  readonly id: string;
}

/**
 * Engines call `state` several times per container, and loading yargs costs
 * more than the rest of the command (docs/STARTUP.md). This reads the one
 * shape engines send: runc's global flags, each in a form that has a single
 * meaning, then `state` and one id. Anything else (help, an unknown or
 * repeated flag, a flag after the command, an id that looks like a flag)
 * returns undefined, and yargs parses it as before, errors included.
 */
export function parseFastState(args: readonly string[]): FastState | undefined {
  const values = new Map<string, string>();
  const switches = new Set<string>();
  let i = 0;
  for (; i < args.length && (args[i] ?? '').startsWith('--'); i++) {
    const arg = args[i] as string;
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    if (values.has(name) || switches.has(name)) return undefined;
    if (name === 'debug' || name === 'systemd-cgroup') {
      if (eq >= 0) return undefined;
      switches.add(name);
    } else if (name === 'root' || name === 'log' || name === 'log-format') {
      const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined || (eq < 0 && value.startsWith('-'))) return undefined;
      values.set(name, value);
    } else {
      return undefined;
    }
  }
  const [command, id, ...rest] = args.slice(i);
  if (command !== 'state' || id === undefined || id === '' || id.startsWith('-') || rest.length > 0) return undefined;
  const format = values.get('log-format') ?? 'text';
  if (format !== 'text' && format !== 'json') return undefined;
  const file = values.get('log');
  return {
    global: { root: resolve(values.get('root') ?? defaultRoot()), debug: switches.has('debug'), systemdCgroup: switches.has('systemd-cgroup') },
    log: { ...(file !== undefined && file !== '' ? { file } : {}), format: format as LogFormat, debug: switches.has('debug') },
    id,
  };
}
