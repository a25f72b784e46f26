import { closeSync, openSync } from 'node:fs';
import { CLONE } from '../../ffi/constants.js';
import { lastErrno, libc } from '../../ffi/libc.js';
import { SyscallError } from '../../ffi/syscall-error.js';
import { sameNamespace } from './container-namespaces.js';
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

/**
 * clone(2) puts the child in its parent thread's pid namespace "for
 * children": to join one by path, Node's main thread enters it (allowed for
 * a multithreaded process) just for the clone, then returns to its own.
 */
export function withPidNamespaceOf<T>(path: string | undefined, fn: () => T): T {
  if (path === undefined) return fn();
  const target = openSync(path, 'r');
  const home = openSync('/proc/self/ns/pid', 'r');
  try {
    if (libc().setns(target, NAMESPACES.pid.flag) !== 0) {
      throw new SyscallError('setns', lastErrno(), `${path} (pid namespace)`, 'the path must be a pid namespace of a running process');
    }
    try {
      return fn();
    } finally {
      if (libc().setns(home, NAMESPACES.pid.flag) !== 0) throw new SyscallError('setns', lastErrno(), "back to tsrun's own pid namespace");
    }
  } finally {
    closeSync(target);
    closeSync(home);
  }
}
