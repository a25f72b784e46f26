import type { HostKernel } from '../../../ffi/host-kernel.js';
import { isDenied } from '../../../ffi/syscall-error.js';
import type { LinuxPersonality } from '../../config/types.js';
import type { ChainWriter } from '../chain-writer.js';

/** Execution domains (linux/personality.h) the runtime-spec names. */
const DOMAINS: Record<LinuxPersonality['domain'], number> = {
  LINUX: 0x0000, // PER_LINUX
  LINUX32: 0x0008, // PER_LINUX32: uname(2) reports a 32-bit machine (i686 on x86_64)
};

/**
 * The persona linux.personality asks for. config-linux.md defines no flag
 * values yet, so any flag is refused rather than guessed at (some, such as
 * ADDR_NO_RANDOMIZE, weaken the process).
 */
export function personalityValue(p: LinuxPersonality): number {
  const flags = p.flags ?? [];
  if (flags.length > 0) {
    throw new Error(
      `linux.personality.flags: ${flags.join(', ')}: the runtime-spec defines no personality flags, so tsrun sets none; remove the flags`,
    );
  }
  const value = DOMAINS[p.domain];
  if (value === undefined) throw new Error(`linux.personality.domain: "${String(p.domain)}" is not LINUX or LINUX32`);
  return value;
}

/**
 * personality(2) acts only on the calling process, so it is a chain step.
 * The persona survives execve (set-user-ID programs excepted, for the
 * flags the kernel clears), so the process sets it before it execs; and
 * before any seccomp filter, which is meant for the user's program, not
 * for the runtime's setup (Docker's default profile, for one, restricts
 * personality's argument). With domain LINUX the call still matters: it
 * clears whatever persona tsrun itself inherited (a `setarch` around it).
 */
export function planPersonality(p: LinuxPersonality | undefined, w: ChainWriter): void {
  if (p === undefined) return;
  const value = personalityValue(p);
  w.check(`personality(0x${value.toString(16)}) (linux.personality.domain ${p.domain})`, 'personality', [value]);
}

/**
 * personality(2) cannot fail for a valid persona, so its errno proves
 * little: read the result back in /proc/<pid>/personality before the process
 * may execve. Reading it needs ptrace access to the process, which an
 * unprivileged tsrun loses once the process changed its credentials; then
 * the step's own report is all there is, and the check is skipped.
 */
export function verifyPersonality(kernel: HostKernel, pid: number, p: LinuxPersonality | undefined): void {
  if (p === undefined) return;
  const want = personalityValue(p);
  let text: string;
  try {
    text = kernel.readFile(`/proc/${pid}/personality`);
  } catch (error) {
    if (isDenied(error)) return;
    throw error;
  }
  const got = Number.parseInt(text.trim(), 16);
  if (got !== want) {
    throw new Error(
      `linux.personality: the container process (pid ${pid}) has persona 0x${text.trim()}, expected 0x${want.toString(16).padStart(8, '0')} (domain ${p.domain})`,
    );
  }
}
