import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * tsrun's log, shaped like runc's (logrus) because engines read it: containerd
 * and podman pass `--log <file> --log-format json` and show the last "error"
 * line of that file when a runtime command fails.
 */
export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

export interface LogSettings {
  /** Append to this file; stderr when absent. */
  readonly file?: string;
  readonly format: LogFormat;
  readonly debug: boolean;
}

/** How a line is laid out: logrus's JSON, its key=value text, or its terminal form. */
export type LineStyle = LogFormat | 'terminal';

const STDERR = 2;
const startedAt = Date.now();

interface Output {
  readonly fd: number;
  readonly format: LogFormat;
  /** Decided at the first line: most commands log none, and node:tty costs a few ms to load. */
  style?: LineStyle;
  readonly debug: boolean;
  readonly toFile: boolean;
}

let output: Output = { fd: STDERR, format: 'text', debug: false, toFile: false };

export function configureLogging(settings: LogSettings): void {
  let fd = STDERR;
  if (settings.file !== undefined) {
    try {
      fd = openSync(settings.file, 'a', 0o644);
    } catch (error) {
      throw new Error(`failed to open log file ${settings.file}: ${(error as Error).message}`);
    }
  }
  if (output.toFile) closeSync(output.fd);
  output = { fd, format: settings.format, debug: settings.debug, toFile: settings.file !== undefined };
}

export const logger = {
  debug(msg: string): void {
    if (output.debug) emit('debug', msg);
  },
  info(msg: string): void {
    emit('info', msg);
  },
  warn(msg: string): void {
    emit('warning', msg);
  },
  error(msg: string): void {
    emit('error', msg);
  },
};

/**
 * A command's failure, reported like runc's: into the log, and when the log is
 * a file, also as a bare line on stderr for whoever ran the command.
 */
export function reportError(msg: string): void {
  logger.error(msg);
  if (output.toFile) writeSync(STDERR, `${msg}\n`);
}

export function formatLine(level: LogLevel, msg: string, style: LineStyle, now: Date): string {
  const time = now.toISOString().replace(/\.\d+Z$/, 'Z');
  switch (style) {
    case 'json':
      // logrus sorts the keys.
      return JSON.stringify({ level, msg, time });
    case 'text':
      return `time="${time}" level=${level} msg=${quoteIfNeeded(msg)}`;
    case 'terminal': {
      const seconds = String(Math.floor((now.getTime() - startedAt) / 1000)).padStart(4, '0');
      return `\x1b[${COLOURS[level]}m${level.slice(0, 4).toUpperCase()}\x1b[0m[${seconds}] ${msg.padEnd(44)}`;
    }
  }
}

const COLOURS: Readonly<Record<LogLevel, number>> = { debug: 37, info: 36, warning: 33, error: 31 };

function emit(level: LogLevel, msg: string): void {
  output.style ??= styleFor(output.format, output.fd);
  writeSync(output.fd, `${formatLine(level, msg, output.style, new Date())}\n`);
}

function styleFor(format: LogFormat, fd: number): LineStyle {
  return format === 'text' && process.getBuiltinModule('node:tty').isatty(fd) ? 'terminal' : format;
}

// logrus leaves a value bare only if every character is in this set.
function quoteIfNeeded(value: string): string {
  return /^[\w\-./@^+]+$/.test(value) ? value : JSON.stringify(value);
}
