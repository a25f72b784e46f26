/** One thing wrong with a config file, and where. */
export interface ConfigProblem {
  /** A JSON pointer such as "/process/cwd", "line 3, column 7" for syntax errors, or "" for the file as a whole. */
  location: string;
  /** What is wrong and what to do about it. */
  message: string;
}

export function formatProblem(file: string, problem: ConfigProblem): string {
  return problem.location === '' ? `${file}: ${problem.message}` : `${file}: ${problem.location}: ${problem.message}`;
}

/**
 * A config.json that tsrun cannot use. The message lists every problem found,
 * one per line, so a user can fix them all in one go.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    readonly file: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(problems.map((problem) => formatProblem(file, problem)).join('\n'));
  }
}
