import { closeSync, openSync, read, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { eventfd } from '../../../../ffi/eventfd.js';
import { SyscallError } from '../../../../ffi/syscall-error.js';

/**
 * OOM events of a v1 memory cgroup as the kernel sends them: an eventfd
 * registered on memory.oom_control through cgroup.event_control, read
 * without blocking the event loop (the read waits in libuv's thread pool).
 * Each wake-up calls `onEvent`; the returned function stops watching. The
 * kernel also signals the eventfd when the cgroup is removed, which callers
 * see as an event with no new kill counted.
 */
export function watchOomControl(memory: string, onEvent: () => void): () => void {
  const efd = eventfd();
  let control: number | undefined;
  try {
    control = openSync(join(memory, 'memory.oom_control'), 'r');
    writeFileSync(join(memory, 'cgroup.event_control'), `${efd} ${control}`);
  } catch (error) {
    closeSync(efd);
    if (control !== undefined) closeSync(control);
    const e = error as NodeJS.ErrnoException;
    throw new SyscallError(e.syscall ?? 'write', e.errno ?? 0, `${join(memory, 'cgroup.event_control')} (OOM notification)`);
  }
  const watched = control;
  let stopping = false;
  const counter = Buffer.alloc(8);
  const next = (): void => {
    read(efd, counter, 0, 8, null, (error) => {
      if (stopping || error !== null) {
        closeSync(efd);
        closeSync(watched);
        return;
      }
      onEvent();
      next();
    });
  };
  next();
  // A read in the pool cannot be cancelled; adding to the counter ends it.
  return () => {
    stopping = true;
    const one = Buffer.alloc(8);
    one.writeBigUInt64LE(1n);
    writeSync(efd, one);
  };
}
