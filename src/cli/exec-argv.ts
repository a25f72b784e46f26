// `tsrun exec <id> sh -c 'echo hi'`: the -c belongs to sh, not to tsrun's
// --cap. runc parses flags as Go's flag package does, which stops at the
// first argument that is not a flag; yargs would go on and take -c. So,
// before yargs sees the command line, a "--" is put after the container id,
// and yargs hands everything after it over untouched.

/** Flags (global or exec's own) that take the next argument as their value. */
const TAKES_VALUE = new Set([
  '--root',
  '--log',
  '--log-format',
  '--criu',
  '--console-socket',
  '--cwd',
  '--env',
  '-e',
  '--user',
  '-u',
  '--additional-gids',
  '-g',
  '--process',
  '-p',
  '--pid-file',
  '--process-label',
  '--apparmor',
  '--cap',
  '-c',
  '--preserve-fds',
]);

/** The command line with "--" after exec's container id, when a command follows it. */
export function separateExecCommand(args: readonly string[]): string[] {
  const command = firstOperand(args, 0);
  if (command === undefined || args[command] !== 'exec') return [...args];
  const id = firstOperand(args, command + 1);
  if (id === undefined || id + 1 >= args.length || args[id + 1] === '--') return [...args];
  return [...args.slice(0, id + 1), '--', ...args.slice(id + 1)];
}

/** Index of the first argument from `from` on that is neither a flag nor a flag's value. */
function firstOperand(args: readonly string[], from: number): number | undefined {
  for (let i = from; i < args.length; i += 1) {
    const arg = args[i] ?? '';
    if (arg === '--') return undefined;
    if (!arg.startsWith('-') || arg === '-') return i;
    if (!arg.includes('=') && TAKES_VALUE.has(arg)) i += 1;
  }
  return undefined;
}
