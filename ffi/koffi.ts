import { createRequire } from 'node:module';

type Koffi = typeof import('koffi');

let loaded: Koffi | undefined;

/**
 * koffi, loaded on first call rather than on import: loading its native
 * addon costs a command ~20 ms, and commands that make no system call of
 * their own (state, list, spec) must not pay for it. So importing any
 * module of ffi/ is free; only calling into it loads koffi.
 */
export function koffi(): Koffi {
  loaded ??= createRequire(import.meta.url)('koffi') as Koffi;
  return loaded;
}
