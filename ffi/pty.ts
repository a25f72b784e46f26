import { fstatSync } from 'node:fs';
import { TIOC } from './constants.js';
import { lastErrno, libc } from './libc.js';
import { NativeBytes } from './native-bytes.js';
import { SyscallError } from './syscall-error.js';
import { SYS } from './syscall-numbers.js';

// The pty multiplexer, /dev/ptmx or a devpts instance's own ptmx: char 5:2.
const PTMX_MAJOR = 5;
const PTMX_MINOR = 2;

/**
 * A duplicate of fd `fd` of process `pid` (pidfd_getfd(2), Linux 5.6):
 * how the parent takes the pty master the container's process opened in
 * its own devpts. Close-on-exec, as Node's fds are.
 */
export function takeFd(pid: number, fd: number): number {
  const c = libc();
  const pidfd = Number(c.syscall(SYS.pidfd_open, 'int', pid, 'int', 0));
  if (pidfd < 0) throw new SyscallError('pidfd_open', lastErrno(), `pid ${pid}`);
  try {
    const copy = Number(c.syscall(SYS.pidfd_getfd, 'int', pidfd, 'int', fd, 'int', 0));
    if (copy < 0) throw new SyscallError('pidfd_getfd', lastErrno(), `fd ${fd} of pid ${pid}`);
    return copy;
  } finally {
    c.close(pidfd);
  }
}

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

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;

/**
 * Send `fd` over the AF_UNIX stream socket at `path` with SCM_RIGHTS, the
 * message being `name`: what runc sends to a --console-socket, and what
 * engines (containerd's go-runc, podman's conmon) expect to receive.
 */
export function sendFd(path: string, fd: number, name: string): void {
  const c = libc();
  const address = Buffer.alloc(110);
  address.writeUInt16LE(AF_UNIX, 0);
  if (Buffer.byteLength(path) > 107) throw new Error(`--console-socket: ${path} is longer than a unix socket path may be (107 bytes)`);
  address.write(path, 2);
  const socket = c.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (socket < 0) throw new SyscallError('socket', lastErrno(), 'AF_UNIX');
  const payload = NativeBytes.of(Buffer.from(name));
  const iov = new NativeBytes(16);
  const control = new NativeBytes(24);
  try {
    if (c.connect(socket, address, address.length) !== 0) throw new SyscallError('connect', lastErrno(), path, 'the --console-socket must be a listening unix stream socket');
    const iovView = Buffer.from(iov.bytes.buffer, iov.bytes.byteOffset, 16);
    iovView.writeBigUInt64LE(payload.address, 0);
    iovView.writeBigUInt64LE(BigInt(payload.bytes.length), 8);
    // struct cmsghdr { size_t len; int level; int type; } followed by one int: CMSG_LEN(4) = 20, CMSG_SPACE(4) = 24.
    const cmsg = Buffer.from(control.bytes.buffer, control.bytes.byteOffset, 24);
    cmsg.writeBigUInt64LE(20n, 0);
    cmsg.writeInt32LE(SOL_SOCKET, 8);
    cmsg.writeInt32LE(SCM_RIGHTS, 12);
    cmsg.writeInt32LE(fd, 16);
    // struct msghdr on LP64: name, namelen(+pad), iov, iovlen, control, controllen, flags(+pad).
    const msg = Buffer.alloc(56);
    msg.writeBigUInt64LE(iov.address, 16);
    msg.writeBigUInt64LE(1n, 24);
    msg.writeBigUInt64LE(control.address, 32);
    msg.writeBigUInt64LE(24n, 40);
    if (Number(c.sendmsg(socket, msg, 0)) < 0) throw new SyscallError('sendmsg', lastErrno(), path);
  } finally {
    c.close(socket);
    payload.free();
    iov.free();
    control.free();
  }
}
