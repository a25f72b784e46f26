import { CAPABILITIES } from '../../config/linux-names.js';
export function capabilityNumber(name: string, field: string): number {
  const n = (CAPABILITIES as readonly string[]).indexOf(name);
  if (n < 0) throw new Error(`${field}: unknown capability ${name}`);
  return n;
}

/** A capability set as the 64-bit mask /proc/<pid>/status prints (CapEff etc.). */
export function capabilityMask(names: readonly string[] | undefined, field: string, lastCap: number): bigint {
  let mask = 0n;
  for (const name of names ?? []) {
    const n = capabilityNumber(name, field);
    // Like runc, a capability this kernel does not know is skipped, not fatal.
    if (n <= lastCap) mask |= 1n << BigInt(n);
  }
  return mask;
}

/** The names of the capabilities in a mask, lowest number first. */
export function capabilityNames(mask: bigint): string[] {
  return (CAPABILITIES as readonly string[]).filter((_, n) => (mask & (1n << BigInt(n))) !== 0n);
}
