import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { Parser } from 'yargs/helpers';
import type { GlobalOptions } from '../runtime/options.js';
import type { LogFormat, LogSettings } from '../runtime/log.js';
import { inInitialUserNamespace } from '../linux/caller.js';

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

/**
 * Like runc: /run/tsrun, except for a caller who cannot write /run and has
 * a XDG_RUNTIME_DIR: an unprivileged user, or root of a user namespace that
 * is not the host's (rootless podman), unless USER says "root" there.
 */
export function defaultRoot(env: NodeJS.ProcessEnv = process.env, euid = process.geteuid?.() ?? 0, hostNamespace = inInitialUserNamespace): string {
  const runtimeDir = env['XDG_RUNTIME_DIR'];
  if (runtimeDir === undefined || runtimeDir === '') return '/run/tsrun';
  const honoured = euid !== 0 || (!hostNamespace() && env['USER'] !== 'root');
  return honoured ? `${runtimeDir}/tsrun` : '/run/tsrun';
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
