import { lastErrno, libc } from './libc.js';
import { NativeBytes } from './native-bytes.js';
import { SyscallError } from './syscall-error.js';

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;

/**
 * Send `fd` over the AF_UNIX stream socket at `path` with SCM_RIGHTS, with
 * `message` as the data: a pty master with its name for --console-socket
 * (what engines such as containerd's go-runc and conmon expect), a seccomp
 * listener with the container process state for linux.seccomp.listenerPath.
 */
export function sendFd(path: string, fd: number, message: string): void {
  const c = libc();
  const address = Buffer.alloc(110);
  address.writeUInt16LE(AF_UNIX, 0);
  if (Buffer.byteLength(path) > 107) throw new Error(`${path}: longer than a unix socket path may be (107 bytes)`);
  address.write(path, 2);
  const socket = c.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (socket < 0) throw new SyscallError('socket', lastErrno(), 'AF_UNIX');
  const payload = NativeBytes.of(Buffer.from(message));
  const iov = new NativeBytes(16);
  const control = new NativeBytes(24);
  try {
    if (c.connect(socket, address, address.length) !== 0) throw new SyscallError('connect', lastErrno(), path, 'it must be a listening unix stream socket');
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
