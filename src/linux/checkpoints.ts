/**
 * The points where a container's process, still running its call chain,
 * blocks on the sync pipe until tsrun has checked the steps before and done
 * its part from outside (runc's sync messages between runc and runc init;
 * youki's init requests). A plan lists the ones its chain has, in order
 * (PlannedChain.checkpoints); the conductor walks that list, so which
 * checkpoints exist is decided in one place, the planner.
 */
export type Checkpoint =
  /** Right after clone: the process exists, alone, before it enters anything. */
  | 'spawned'
  /** An exec that forked to enter a pid namespace: the child is the process now. */
  | 'forked'
  /** An init in its namespaces, root of its user namespace. */
  | 'isolated'
  /**
   * A tmpfs with "tmpcopyup" is mounted; the process holds an fd of the
   * directory it covers and one of the new tmpfs, and the parent copies the
   * one into the other. One per such mount, in mount order.
   */
  | 'copy-up'
  /** An init's mounts are made (and its pty opened), before pivot_root. */
  | 'mounted'
  /** An exec's pty is open. */
  | 'terminal'
  /** The seccomp filter is installed and returned its listener fd (SCMP_ACT_NOTIFY). */
  | 'seccomp-listener'
  /** Everything is set up; the next steps only wait (an init) and execve. */
  | 'ready';

/** The checkpoints an init's chain can have, in the order they come. */
export const INIT_CHECKPOINTS = ['spawned', 'isolated', 'copy-up', 'mounted', 'seccomp-listener', 'ready'] as const satisfies readonly Checkpoint[];
export type InitCheckpoint = (typeof INIT_CHECKPOINTS)[number];

/** The checkpoints an exec's chain can have, in the order they come. */
export const EXEC_CHECKPOINTS = ['spawned', 'forked', 'terminal', 'seccomp-listener', 'ready'] as const satisfies readonly Checkpoint[];
export type ExecCheckpoint = (typeof EXEC_CHECKPOINTS)[number];

/** The checkpoints a chain may meet more than once in a row: one per mount that asks for it. */
const REPEATABLE: ReadonlySet<Checkpoint> = new Set<Checkpoint>(['copy-up']);

/**
 * The checkpoints a planner wrote, checked against those its kind of chain
 * may have, in that order and each once (a repeatable one: once per use,
 * back to back): the conductor has a handler for exactly those.
 */
export function checkpointsOf<C extends Checkpoint>(written: readonly Checkpoint[], allowed: readonly C[]): C[] {
  let last = -1;
  for (const name of written) {
    const at = allowed.indexOf(name as C);
    if (at < last || at === -1 || (at === last && !REPEATABLE.has(name))) throw new Error(`the planned chain has checkpoint "${name}" out of place (${written.join(', ')}; allowed, in order: ${allowed.join(', ')})`);
    last = at;
  }
  return written as C[];
}
