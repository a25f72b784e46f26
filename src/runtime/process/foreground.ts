import { decodeWaitStatus, type Puppet } from '../../linux/kernel.js';

// Signals a foreground `run` or `exec` passes on to the container's process, as runc does.
const FORWARDED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

/**
 * Wait for a process tsrun started (it has execve'd already), forwarding
 * the signals tsrun receives meanwhile; resolves to the exit code tsrun
 * should exit with: the process's own, or 128+n if a signal ended it.
 */
export async function waitInForeground(puppet: Puppet): Promise<number> {
  const forward = (signal: NodeJS.Signals) => {
    try {
      process.kill(puppet.pid, signal);
    } catch {
      // Already gone: the exit status arrives next.
    }
  };
  for (const signal of FORWARDED) process.on(signal, forward);
  try {
    return exitCode(await puppet.waitForExit());
  } finally {
    for (const signal of FORWARDED) process.off(signal, forward);
  }
}

function exitCode(status: number): number {
  const { signal, code } = decodeWaitStatus(status);
  return signal === 0 ? code : 128 + signal;
}
