import type { SchedulingKernel } from '../../../ffi/scheduling.js';
import { errnoName, SyscallError } from '../../../ffi/syscall-error.js';
import type { IOPriority } from '../../config/types.js';

/** I/O scheduling classes (linux/ioprio.h). */
const CLASSES: Record<IOPriority['class'], number> = {
  IOPRIO_CLASS_RT: 1,
  IOPRIO_CLASS_BE: 2,
  IOPRIO_CLASS_IDLE: 3,
};
const IOPRIO_CLASS_SHIFT = 13;

/** IOPRIO_PRIO_VALUE(class, level), checked: the kernel knows levels 0 (highest) to 7. */
export function ioPriorityValue(io: IOPriority): number {
  const klass = CLASSES[io.class];
  if (klass === undefined) throw new Error(`process.ioPriority.class: "${String(io.class)}" is not IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE`);
  if (!Number.isInteger(io.priority) || io.priority < 0 || io.priority > 7) {
    throw new Error(`process.ioPriority.priority: ${io.priority} is outside 0 (highest) to 7 (lowest)`);
  }
  return (klass << IOPRIO_CLASS_SHIFT) | io.priority;
}

/**
 * process.ioPriority, set from outside: ioprio_set(2) takes a pid, and the
 * priority lives in the process's I/O context, which its children share or
 * copy and execve keeps, so setting it on the first process before it
 * execs covers everything the container's program starts. Read back with
 * ioprio_get(2).
 */
export function applyIoPriority(kernel: SchedulingKernel, pid: number, io: IOPriority | undefined): void {
  if (io === undefined) return;
  const value = ioPriorityValue(io);
  const subject = `pid ${pid} (process.ioPriority ${io.class} ${io.priority})`;
  const errno = kernel.setIoPriority(pid, value);
  if (errno !== 0) throw new SyscallError('ioprio_set', errno, subject, hint(errnoName(errno), io));
  const got = kernel.getIoPriority(pid);
  if (got !== value) {
    throw new Error(
      `process.ioPriority: the container process (pid ${pid}) has I/O priority class ${got >> IOPRIO_CLASS_SHIFT} level ${got & 7} after ioprio_set, expected ${io.class} (${value >> IOPRIO_CLASS_SHIFT}) level ${io.priority}`,
    );
  }
}

function hint(errno: string, io: IOPriority): string | undefined {
  if (errno === 'EPERM') {
    return io.class === 'IOPRIO_CLASS_RT'
      ? 'the real-time I/O class needs CAP_SYS_NICE or CAP_SYS_ADMIN in tsrun (an unprivileged tsrun has neither); use IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE'
      : "setting another user's process's I/O priority needs CAP_SYS_NICE in tsrun";
  }
  if (errno === 'EINVAL') return 'the kernel does not accept this class and level';
  return undefined;
}
