import type { ChainWriter } from '../chain-writer.js';

const KEYCTL_JOIN_SESSION_KEYRING = 1;

/**
 * A session keyring of its own, named `name` (runc's `_ses.<id>`): otherwise
 * the process possesses the caller's session keyring and every key in it.
 * A kernel without keyrings (ENOSYS) has nothing to keep apart.
 */
export function planSessionKeyring(w: ChainWriter, name: string): void {
  w.sys(`join the session keyring ${name}`, 'keyctl', [KEYCTL_JOIN_SESSION_KEYRING, name], ['ENOSYS']);
}
