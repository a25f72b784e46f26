import { resolve } from 'node:path';
import type { LogFormat, LogSettings } from '../runtime/log.js';
import type { GlobalOptions } from '../runtime/options.js';
import { parseSignal } from '../runtime/signals.js';
import { defaultRoot } from './default-root.js';

/** One of the calls engines make several times per container, as the yargs path would make it. */
export type FastCall =
  | { readonly command: 'state'; readonly id: string }
  | { readonly command: 'start'; readonly id: string }
  | { readonly command: 'kill'; readonly id: string; readonly signal: number }
  | { readonly command: 'delete'; readonly id: string; readonly force: boolean };

/** A command line read without yargs. */
export interface FastCommand {
  readonly global: GlobalOptions;
  readonly log: LogSettings;
  readonly call: FastCall;
}

/**
 * Engines call `state`, `start`, `kill` and `delete` once or more per
 * container, and loading yargs costs more than the rest of such a command
 * (docs/STARTUP.md). This reads the shapes engines send: runc's global
 * flags, each in a form that has a single meaning, then one of
 *
 *   state <id> | start <id> | kill <id> [signal] | delete [--force|-f] <id>
 *
 * Anything else (help, an unknown or repeated flag, a flag after the id,
 * `kill --all`, an id that looks like a flag, a signal yargs would refuse)
 * returns undefined, and yargs parses it as before, errors included.
 */
export function parseFastCommand(args: readonly string[]): FastCommand | undefined {
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
  const call = readCall(args.slice(i));
  if (call === undefined) return undefined;
  const format = values.get('log-format') ?? 'text';
  if (format !== 'text' && format !== 'json') return undefined;
  const file = values.get('log');
  return {
    global: { root: resolve(values.get('root') ?? defaultRoot()), debug: switches.has('debug'), systemdCgroup: switches.has('systemd-cgroup') },
    log: { ...(file !== undefined && file !== '' ? { file } : {}), format: format as LogFormat, debug: switches.has('debug') },
    call,
  };
}

function readCall(words: readonly string[]): FastCall | undefined {
  const [command, ...rest] = words;
  switch (command) {
    case 'state':
    case 'start':
      return rest.length === 1 && isId(rest[0]) ? { command, id: rest[0] } : undefined;
    case 'kill': {
      const [id, signal, ...more] = rest;
      if (!isId(id) || more.length > 0 || signal?.startsWith('-') === true) return undefined;
      try {
        return { command, id, signal: parseSignal(signal) };
      } catch {
        return undefined;
      }
    }
    case 'delete': {
      const force = rest[0] === '--force' || rest[0] === '-f';
      const operands = force ? rest.slice(1) : rest;
      return operands.length === 1 && isId(operands[0]) ? { command, id: operands[0], force } : undefined;
    }
    default:
      return undefined;
  }
}

const isId = (word: string | undefined): word is string => word !== undefined && word !== '' && !word.startsWith('-');
