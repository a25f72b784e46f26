import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { SyscallError } from './syscall-error.js';

/**
 * The file calls of HostKernel (host-kernel.ts), on their own: they need
 * node:fs alone, not libc, so what only reads (`state`, `list`) can have
 * them without loading the libc declarations.
 */
export const hostFiles = {
  writeFile(path: string, data: string, field?: string): void {
    try {
      writeFileSync(path, data);
    } catch (error) {
      throw fromNodeError('write', error, path, field);
    }
  },
  readFile(path: string): string {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw fromNodeError('read', error, path);
    }
  },
  mkdir(path: string): void {
    try {
      mkdirSync(path);
    } catch (error) {
      throw fromNodeError('mkdir', error, path);
    }
  },
  rmdir(path: string): void {
    try {
      rmdirSync(path);
    } catch (error) {
      throw fromNodeError('rmdir', error, path);
    }
  },
};

function fromNodeError(call: string, error: unknown, path: string, field?: string): Error {
  const e = error as NodeJS.ErrnoException;
  if (typeof e.errno !== 'number') return e;
  const subject = field === undefined ? path : `${path} (${field})`;
  return new SyscallError(call, -e.errno, subject);
}
