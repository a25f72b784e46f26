import { fstatSync } from 'node:fs';
import { TIOC } from './constants.js';
import { lastErrno, libc } from './libc.js';
import { SyscallError } from './syscall-error.js';

// The pty multiplexer, /dev/ptmx or a devpts instance's own ptmx: char 5:2.
const PTMX_MAJOR = 5;
const PTMX_MINOR = 2;

/** Refuse anything but a pty master: the container's /dev/ptmx is the image's to tamper with. */
export function assertPtyMaster(fd: number, what: string): void {
  const stat = fstatSync(fd, { bigint: true });
  const rdev = stat.rdev;
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xfffff000n));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n));
  if (!stat.isCharacterDevice() || major !== PTMX_MAJOR || minor !== PTMX_MINOR) {
    throw new Error(`${what} is not a pty master (device ${major}:${minor}); the container's /dev/ptmx must be its devpts ptmx`);
  }
}

/** "/dev/pts/N" of a pty master, as the container sees it. */
export function ptyName(master: number): string {
  const n = Buffer.alloc(4);
  if (libc().ioctl(master, TIOC.GPTN, 'uint8_t *', n) !== 0) throw new SyscallError('ioctl', lastErrno(), 'TIOCGPTN');
  return `/dev/pts/${n.readUInt32LE(0)}`;
}

export function setWindowSize(fd: number, rows: number, columns: number): void {
  const size = Buffer.alloc(8);
  size.writeUInt16LE(rows, 0);
  size.writeUInt16LE(columns, 2);
  if (libc().ioctl(fd, TIOC.SWINSZ, 'uint8_t *', size) !== 0) throw new SyscallError('ioctl', lastErrno(), 'TIOCSWINSZ (process.consoleSize)');
}
