import { resolve } from 'node:path';
import type { LogFormat, LogSettings } from '../runtime/log.js';
import type { ExecOptions } from '../runtime/commands/exec.js';
import type { CreateOptions, GlobalOptions, RunOptions } from '../runtime/options.js';
import { parseSignal } from '../runtime/signals.js';
import { defaultRoot } from './default-root.js';

/** One of the calls engines make several times per container, as the yargs path would make it. */
export type FastCall =
  | { readonly command: 'state'; readonly id: string }
  | { readonly command: 'start'; readonly id: string }
  | { readonly command: 'kill'; readonly id: string; readonly signal: number }
  | { readonly command: 'delete'; readonly id: string; readonly force: boolean }
  | { readonly command: 'create'; readonly options: CreateOptions }
  | { readonly command: 'run'; readonly options: RunOptions }
  | { readonly command: 'exec'; readonly options: ExecOptions };

/** A command line read without yargs. */
export interface FastCommand {
  readonly global: GlobalOptions;
  readonly log: LogSettings;
  readonly call: FastCall;
}

/**
 * Engines call `state`, `start`, `kill` and `delete` once or more per
 * container, and loading yargs costs more than the rest of such a command
 * (docs/STARTUP.md); `create` (and `run`) they call once, and yargs is
 * still a tenth of it. This reads the shapes engines send: runc's global
 * flags, each in a form that has a single meaning, then one of
 *
 *   state <id> | start <id> | kill <id> [signal] | delete [--force|-f] <id>
 *   create [create flags] <id> | run [create flags] [--detach|-d] [--keep] <id>
 *   exec --process|-p <file> [--detach|-d] [--pid-file <file>] [--console-socket <path>] [--preserve-fds <n>] <id>
 *
 * with the create flags --bundle|-b, --pid-file, --console-socket,
 * --preserve-fds (digits), --no-pivot and --no-new-keyring, each once and
 * before the id. Anything else (help, an unknown or repeated flag, a flag
 * after the id, `kill --all`, an id that looks like a flag, a signal yargs
 * would refuse) returns undefined, and yargs parses it as before, errors
 * included.
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
    case 'create':
    case 'run':
      return readCreate(command, rest);
    case 'exec':
      return readExec(rest);
    default:
      return undefined;
  }
}

const CREATE_VALUES: Readonly<Record<string, string>> = { '--bundle': 'bundle', '-b': 'bundle', '--pid-file': 'pid-file', '--console-socket': 'console-socket', '--preserve-fds': 'preserve-fds' };
const CREATE_SWITCHES: Readonly<Record<string, string>> = { '--no-pivot': 'no-pivot', '--no-new-keyring': 'no-new-keyring' };
const RUN_SWITCHES: Readonly<Record<string, string>> = { '--detach': 'detach', '-d': 'detach', '--keep': 'keep' };

const EXEC_VALUES: Readonly<Record<string, string>> = { '--process': 'process', '-p': 'process', '--pid-file': 'pid-file', '--console-socket': 'console-socket', '--preserve-fds': 'preserve-fds' };
const EXEC_SWITCHES: Readonly<Record<string, string>> = { '--detach': 'detach', '-d': 'detach' };

/** A command's flags, each once, then its id as the last word; undefined for any other shape. */
interface Flagged {
  readonly id: string;
  readonly values: ReadonlyMap<string, string>;
  readonly switches: ReadonlySet<string>;
  readonly preserveFds: number;
}

function readFlags(words: readonly string[], valueFlags: Readonly<Record<string, string>>, switchFlags: Readonly<Record<string, string>>): Flagged | undefined {
  const values = new Map<string, string>();
  const switches = new Set<string>();
  let i = 0;
  for (; i < words.length - 1; i++) {
    const word = words[i] as string;
    if (!word.startsWith('-')) return undefined;
    const eq = word.startsWith('--') ? word.indexOf('=') : -1;
    const flag = eq < 0 ? word : word.slice(0, eq);
    const value = valueFlags[flag];
    const name = value ?? switchFlags[flag];
    if (name === undefined || values.has(name) || switches.has(name)) return undefined;
    if (value === undefined) {
      if (eq >= 0) return undefined;
      switches.add(name);
      continue;
    }
    const given = eq >= 0 ? word.slice(eq + 1) : words[++i];
    if (given === undefined || (eq < 0 && given.startsWith('-'))) return undefined;
    values.set(name, given);
  }
  const id = words[i];
  if (i !== words.length - 1 || !isId(id)) return undefined;
  const preserveFds = values.get('preserve-fds') ?? '0';
  if (!/^\d+$/.test(preserveFds)) return undefined;
  return { id, values, switches, preserveFds: Number(preserveFds) };
}

/** The optional path flags, made absolute as the yargs commands make them. */
function paths(values: ReadonlyMap<string, string>): { pidFile?: string; consoleSocket?: string } {
  const pidFile = values.get('pid-file');
  const consoleSocket = values.get('console-socket');
  return { ...(pidFile === undefined ? {} : { pidFile: resolve(pidFile) }), ...(consoleSocket === undefined ? {} : { consoleSocket: resolve(consoleSocket) }) };
}

/** As createOptions (src/cli/commands/create.ts) and the run command make them. */
function readCreate(command: 'create' | 'run', words: readonly string[]): FastCall | undefined {
  const flagged = readFlags(words, CREATE_VALUES, command === 'run' ? { ...CREATE_SWITCHES, ...RUN_SWITCHES } : CREATE_SWITCHES);
  if (flagged === undefined) return undefined;
  const { id, values, switches, preserveFds } = flagged;
  const options: CreateOptions = {
    id,
    bundle: resolve(values.get('bundle') ?? '.'),
    ...paths(values),
    preserveFds,
    noPivot: switches.has('no-pivot'),
    noNewKeyring: switches.has('no-new-keyring'),
  };
  if (command === 'create') return { command, options };
  return { command, options: { ...options, detach: switches.has('detach'), keep: switches.has('keep') } };
}

/** As execOptions (src/cli/commands/exec.ts) makes them for an engine's exec: the process from a file. */
function readExec(words: readonly string[]): FastCall | undefined {
  const flagged = readFlags(words, EXEC_VALUES, EXEC_SWITCHES);
  const processFile = flagged?.values.get('process');
  if (flagged === undefined || processFile === undefined) return undefined;
  const options: ExecOptions = {
    id: flagged.id,
    args: [],
    env: [],
    caps: [],
    detach: flagged.switches.has('detach'),
    preserveFds: flagged.preserveFds,
    processFile: resolve(processFile),
    ...paths(flagged.values),
  };
  return { command: 'exec', options };
}

const isId = (word: string | undefined): word is string => word !== undefined && word !== '' && !word.startsWith('-');
