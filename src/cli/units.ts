// Values written the way runc's flags take them: memory sizes as Docker's
// go-units reads them, durations as Go's time.ParseDuration.

const BINARY_PREFIX: Readonly<Record<string, number>> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/**
 * A memory size in bytes: a number with an optional binary unit, in any
 * case and with optional "i" and "b" ("512m", "1.5GiB", "100 kb", "4096");
 * fractions are truncated to whole bytes.
 */
export function parseMemorySize(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$/i.exec(text);
  if (match === null) throw new Error(`invalid value for ${flag}: ${JSON.stringify(text)} is not a size (such as 512m, 1g or a number of bytes)`);
  const [, amount = '', unit = ''] = match;
  return Math.trunc(Number(amount) * (BINARY_PREFIX[unit.toLowerCase()] ?? 1));
}

const DURATION_UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration in milliseconds: "5s", "250ms", "1m30s", "1.5h"; a bare "0" is zero. */
export function parseDuration(text: string, flag: string): number {
  const invalid = () => new Error(`invalid value for ${flag}: ${JSON.stringify(text)} is not a duration (such as 5s, 500ms or 1m30s)`);
  const sign = text.startsWith('-') ? -1 : 1;
  const body = text.replace(/^[-+]/, '');
  if (body === '0') return 0;
  if (body === '') throw invalid();
  let total = 0;
  let rest = body;
  while (rest !== '') {
    const match = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/.exec(rest);
    if (match === null) throw invalid();
    const [whole, amount = '', unit = ''] = match;
    total += Number(amount) * (DURATION_UNIT_MS[unit] ?? Number.NaN);
    rest = rest.slice(whole.length);
  }
  return sign * total;
}
