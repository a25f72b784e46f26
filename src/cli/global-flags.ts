import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { Parser } from 'yargs/helpers';
import type { GlobalOptions } from '../runtime/options.js';
import type { LogFormat, LogSettings } from '../runtime/log.js';
import { defaultRoot } from './default-root.js';

/** runc's global flags, as parsed. */
export interface GlobalArgs {
  root: string;
  log: string | undefined;
  'log-format': LogFormat;
  debug: boolean;
  'systemd-cgroup': boolean;
  criu: string | undefined;
  rootless: unknown;
}

export function globalFlags(y: Argv): Argv<GlobalArgs> {
  return y
    .option('root', {
      type: 'string',
      default: defaultRoot(),
      describe: 'root directory for storage of container state (this should be located in tmpfs)',
    })
    .option('log', { type: 'string', describe: "set the log file to write tsrun logs to (default is '/dev/stderr')" })
    .option('log-format', {
      choices: ['text', 'json'] as const,
      default: 'text' as LogFormat,
      describe: "set the log format ('text' (default), or 'json')",
    })
    .option('debug', { type: 'boolean', default: false, describe: 'enable debug logging' })
    .option('systemd-cgroup', {
      type: 'boolean',
      default: false,
      describe: 'enable systemd cgroup support, expects cgroupsPath to be of form "slice:prefix:name"',
    })
    // Accepted so that engines written for runc can call tsrun unchanged; tsrun has no use for them.
    .option('criu', { type: 'string', hidden: true })
    // runc's --rootless takes a value (true, false, auto). Untyped, so that
    // spec's own --rootless switch is a plain boolean there.
    .option('rootless', { hidden: true });
}

/**
 * --log, --log-format and --debug, read ahead of yargs: its validation runs
 * before any middleware, and its usage errors belong in the --log file too.
 */
export function logSettings(args: readonly string[]): LogSettings {
  const parsed = Parser([...args], {
    string: ['log', 'log-format'],
    boolean: ['debug'],
    configuration: { 'boolean-negation': false, 'duplicate-arguments-array': false, 'dot-notation': false },
  });
  const file: unknown = parsed.log;
  return {
    ...(typeof file === 'string' && file !== '' ? { file } : {}),
    // An invalid format is reported by validation, in the default format.
    format: parsed['log-format'] === 'json' ? 'json' : 'text',
    debug: parsed.debug === true,
  };
}

export function globalOptions(argv: GlobalArgs): GlobalOptions {
  return { root: resolve(argv.root), debug: argv.debug, systemdCgroup: argv['systemd-cgroup'] };
}
