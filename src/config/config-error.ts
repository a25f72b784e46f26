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

/** How many problems the message lists; engines put it in one log line (podman parses runc's). */
const LISTED = 5;

/**
 * A config.json that tsrun cannot use. The message lists the first few
 * problems, one per line, then how many more there are (all are in
 * `problems`): short enough for an engine to pass on whole.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    readonly file: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    const listed = problems.slice(0, LISTED).map((problem) => formatProblem(file, problem));
    const more = problems.length - listed.length;
    super([...listed, ...(more > 0 ? [`${file}: and ${more} more problem${more > 1 ? 's' : ''}`] : [])].join('\n'));
  }
}
