import type { Configuration } from 'yargs-parser';

/** How every command line is parsed: as runc (Go's flag package) would. */
export const PARSER_CONFIGURATION: Partial<Configuration> = {
  // runc has --no-pivot and --no-new-keyring flags: "--no-x" must not mean "--x=false".
  'boolean-negation': false,
  // Ids and signals are strings even when they look like numbers.
  'parse-numbers': false,
  'parse-positional-numbers': false,
  // As with Go's flag package, a repeated flag's last value wins.
  'duplicate-arguments-array': false,
  'dot-notation': false,
};
