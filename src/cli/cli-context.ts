import type { Actions } from './actions.js';

/** What a command handler may touch: the runtime, the output, the exit code. */
export interface CliContext {
  readonly actions: Actions;
  /** Command output (stdout in production); logs and errors go elsewhere (log.ts). */
  write(text: string): void;
  /** Help shown after a usage error. */
  writeError(text: string): void;
  /** Only `run` sets this: it exits with the container's exit code. */
  exitCode: number;
}
