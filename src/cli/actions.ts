import type { Spec } from '../config/types.js';
import type { ExecOptions } from '../runtime/exec.js';
import type { CreateOptions, GlobalOptions, RunOptions } from '../runtime/options.js';
import type { ContainerSummary } from '../runtime/read-only-operations.js';

/**
 * What the commands ask of the runtime. The CLI reaches the runtime only
 * through this seam, so that parsing can be tested with fakes and so that each
 * command loads only the modules it needs: `state` and `list` never load koffi.
 */
export interface Actions {
  create(g: GlobalOptions, o: CreateOptions): Promise<void>;
  start(g: GlobalOptions, id: string): Promise<void>;
  /** Resolves to the exit code tsrun should exit with. */
  run(g: GlobalOptions, o: RunOptions): Promise<number>;
  state(g: GlobalOptions, id: string): Promise<ContainerSummary>;
  list(g: GlobalOptions): Promise<ContainerSummary[]>;
  kill(g: GlobalOptions, id: string, signal: number, all: boolean): Promise<void>;
  delete(g: GlobalOptions, id: string, force: boolean): Promise<void>;
  /** Resolves to the exit code tsrun should exit with. */
  exec(g: GlobalOptions, o: ExecOptions): Promise<number>;
  defaultSpec(rootless: boolean): Promise<Spec>;
  features(): Promise<unknown>;
}

export const runtimeActions: Actions = {
  create: async (g, o) => (await import('../runtime/create.js')).create(g, o),
  start: async (g, id) => (await import('../runtime/start.js')).start(g, id),
  run: async (g, o) => (await import('../runtime/run.js')).run(g, o),
  state: async (g, id) => (await import('../runtime/read-only-operations.js')).state(g, id),
  list: async (g) => (await import('../runtime/read-only-operations.js')).list(g),
  kill: async (g, id, signal, all) => (await import('../runtime/kill.js')).kill(g, id, signal, all),
  delete: async (g, id, force) => (await import('../runtime/delete.js')).deleteContainer(g, id, force),
  exec: async (g, o) => (await import('../runtime/exec.js')).exec(g, o),
  defaultSpec: async (rootless) => (await import('../config/default-spec.js')).defaultSpec({ rootless }),
  features: async () => (await import('../config/features.js')).features(),
};
