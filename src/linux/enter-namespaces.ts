import { closeSync, openSync, statSync } from 'node:fs';
import { CLONE } from '../../ffi/constants.js';
import { lastErrno, libc } from '../../ffi/libc.js';
import { SyscallError } from '../../ffi/syscall-error.js';
import { NAMESPACES, type NamespaceType } from './namespaces.js';

// Every namespace a thread of a multithreaded process may enter; the user
// namespace is not among them (setns refuses it, FIELD-NOTES.md section 2).
const ENTERABLE: readonly NamespaceType[] = ['ipc', 'uts', 'network', 'cgroup', 'pid', 'time', 'mount'];
let fsUnshared = false;

/**
 * Run `fn` on Node's main thread while it is inside the namespaces of `pid`
 * (all but user), then come back. Processes `fn` spawns synchronously start
 * inside those namespaces: that is how hooks "in the container namespace"
 * run. Only synchronous work belongs in `fn`: libuv's worker threads stay
 * where they were.
 */
export function inNamespacesOf<T>(pid: number, fn: () => T): T {
  const c = libc();
  if (!fsUnshared) {
    // setns(CLONE_NEWNS) needs a private fs_struct (root and cwd).
    if (c.unshare(CLONE.FS) !== 0) throw new SyscallError('unshare', lastErrno(), 'CLONE_FS');
    fsUnshared = true;
  }
  const cwd = process.cwd();
  const entered: Array<{ type: NamespaceType; home: number }> = [];
  try {
    for (const type of ENTERABLE) {
      const proc = NAMESPACES[type].proc;
      const target = `/proc/${pid}/ns/${proc}`;
      const own = `/proc/self/ns/${proc === 'pid' ? 'pid' : proc}`;
      if (sameNamespace(own, target)) continue;
      const home = openSync(own, 'r');
      const fd = openSync(target, 'r');
      try {
        if (c.setns(fd, NAMESPACES[type].flag) !== 0) {
          closeSync(home);
          throw new SyscallError('setns', lastErrno(), `${target}`);
        }
      } finally {
        closeSync(fd);
      }
      entered.push({ type, home });
    }
    return fn();
  } finally {
    for (const { type, home } of entered.reverse()) {
      const ok = c.setns(home, NAMESPACES[type].flag) === 0;
      closeSync(home);
      if (!ok) throw new SyscallError('setns', lastErrno(), `back to tsrun's own ${type} namespace`);
    }
    process.chdir(cwd);
  }
}

function sameNamespace(a: string, b: string): boolean {
  const x = statSync(a);
  const y = statSync(b);
  return x.dev === y.dev && x.ino === y.ino;
}
