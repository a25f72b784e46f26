import { NET } from '../../ffi/constants.js';
import type { ChainWriter } from './chain-writer.js';

/**
 * A new network namespace starts with lo down, so 127.0.0.1 answers
 * nothing: runc and crun bring it up, and engines rely on it (podman
 * --network none, ctr). The container's process does it from inside its
 * namespace, whose root it is (CAP_NET_ADMIN there, in a user namespace
 * too), as `ifconfig lo up` does: ioctl(SIOCSIFFLAGS) on a datagram socket.
 */
export function planLoopbackUp(w: ChainWriter): void {
  const ifreq = new Uint8Array(NET.IFREQ_SIZE);
  ifreq.set(new TextEncoder().encode('lo'), 0);
  new DataView(ifreq.buffer).setUint16(NET.IFREQ_FLAGS_OFFSET, NET.IFF_UP | NET.IFF_LOOPBACK, true);
  w.check('socket(AF_INET, SOCK_DGRAM) to bring lo up', 'socket', [NET.AF_INET, NET.SOCK_DGRAM | NET.SOCK_CLOEXEC, 0]);
  const socket = w.fds.open();
  w.check("bring the new network namespace's lo up (ioctl SIOCSIFFLAGS)", 'ioctl', [socket, NET.SIOCSIFFLAGS, ifreq]);
  w.close(socket);
}
