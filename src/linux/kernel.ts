// The runtime's one door to ffi/: what src/runtime/ uses of the kernel
// besides the planners and subsystems of this layer. Everything passes
// through unchanged; this module only makes the boundary one list, so that
// the runtime never reaches past the Linux layer (test/unit/architecture.test.ts).

/** Writes to procfs and cgroupfs, mkdir, rmdir, prlimit, kill: the calls unit tests record. */
export { hostKernel, type HostKernel } from '../../ffi/host-kernel.js';
/** The container's first process while it runs its call chain, and the pipes it is planned for. */
export { decodeWaitStatus, Puppet } from '../../ffi/puppet.js';
export { openChannel } from '../../ffi/call-chain.js';
export { pipe } from '../../ffi/pipe.js';
export { setWindowSize } from '../../ffi/pty.js';
/** The real-time signals, which Node cannot listen for, through the C helper. */
export { relaySignals } from '../../ffi/signal-relay.js';
export { SIGKILL } from '../../ffi/constants.js';
export { errnoMessage, errnoName, isDenied, SyscallError } from '../../ffi/syscall-error.js';
export { schedulingKernel, type SchedulingKernel } from '../../ffi/scheduling.js';
