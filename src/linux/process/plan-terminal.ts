import { ChainBuffer } from '../../../ffi/chain-step.js';
import { MS, O, TIOC } from '../../../ffi/constants.js';
import { fdPath } from '../../../ffi/path-fd.js';
import type { ChainWriter } from '../chain-writer.js';

/** The pty the process opened, by the fd numbers it has them at. */
export interface PlannedPty {
  readonly master: number;
  readonly slave: number;
}

/**
 * Open a new pty through the container's /dev/ptmx (resolved under
 * `rootFd`), unlock it and open its slave from the master. Done by the
 * process itself, so the pty is one of the container's devpts and its
 * user namespace's. The parent takes a copy of the master (pidfd_getfd)
 * and checks it is one; the process then closes its own.
 */
export function planOpenPty(w: ChainWriter, rootFd: number): PlannedPty {
  const master = w.openInRoot("open the container's /dev/ptmx (process.terminal)", rootFd, '/dev/ptmx', O.RDWR | O.NOCTTY);
  w.check('unlock the pty (TIOCSPTLCK)', 'ioctl', [master, TIOC.SPTLCK, new ChainBuffer(Buffer.alloc(4))]);
  w.check("open the pty's slave (TIOCGPTPEER)", 'ioctl', [master, TIOC.GPTPEER, O.RDWR | O.NOCTTY]);
  return { master, slave: w.fds.open() };
}

/**
 * config-linux.md: with a terminal, /dev/console is a bind mount of the
 * pty's slave. A new empty file is the mount point: never an existing
 * node, which could be a device the image put there.
 */
export function planConsole(w: ChainWriter, rootFd: number, slave: number): void {
  const dev = w.openInRoot('open /dev for /dev/console', rootFd, '/dev', O.PATH | O.DIRECTORY);
  w.check('remove /dev/console', 'unlinkat', [dev, 'console', 0], ['ENOENT']);
  w.check('create /dev/console', 'openat', [dev, 'console', O.CREAT | O.EXCL | O.WRONLY | O.NOFOLLOW | O.CLOEXEC, 0o666]);
  const console = w.fds.open();
  w.check('bind the pty onto /dev/console', 'mount', [fdPath(slave), fdPath(console), null, MS.BIND, null]);
  w.close(console);
  w.close(dev);
}

/** The slave becomes stdin, stdout, stderr and the controlling terminal of a new session. */
export function planAttachTerminal(w: ChainWriter, slave: number): void {
  for (const fd of [0, 1, 2]) w.check(`dup2 the pty onto fd ${fd}`, 'dup2', [slave, fd]);
  w.close(slave);
  w.check('setsid', 'setsid', []);
  w.check('make the pty the controlling terminal (TIOCSCTTY)', 'ioctl', [0, TIOC.SCTTY, 0]);
}
