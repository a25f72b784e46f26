import type { LinuxResources, Spec } from '../config/types.js';
import type { EventsOptions } from '../runtime/commands/events.js';
import type { ExecOptions } from '../runtime/commands/exec.js';
import type { CreateOptions, GlobalOptions, RunOptions } from '../runtime/options.js';
import type { ContainerSummary } from '../runtime/commands/state.js';

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
  pause(g: GlobalOptions, id: string): Promise<void>;
  resume(g: GlobalOptions, id: string): Promise<void>;
  update(g: GlobalOptions, id: string, changes: LinuxResources): Promise<void>;
  /** Resolves when the events end: at once with `stats`, else when the container stops. */
  events(g: GlobalOptions, id: string, o: EventsOptions, emit: (line: string) => void): Promise<void>;
  /** Resolves to the text to print. */
  ps(g: GlobalOptions, id: string, format: 'table' | 'json', psArgs: readonly string[]): Promise<string>;
}

export const runtimeActions: Actions = {
  create: async (g, o) => (await import('../runtime/commands/create.js')).create(g, o),
  start: async (g, id) => (await import('../runtime/commands/start.js')).start(g, id),
  run: async (g, o) => (await import('../runtime/commands/run.js')).run(g, o),
  state: async (g, id) => (await import('../runtime/commands/state.js')).state(g, id),
  list: async (g) => (await import('../runtime/commands/state.js')).list(g),
  kill: async (g, id, signal, all) => (await import('../runtime/commands/kill.js')).kill(g, id, signal, all),
  delete: async (g, id, force) => (await import('../runtime/commands/delete.js')).deleteContainer(g, id, force),
  exec: async (g, o) => (await import('../runtime/commands/exec.js')).exec(g, o),
  defaultSpec: async (rootless) => (await import('../config/default-spec.js')).defaultSpec({ rootless }),
  features: async () => (await import('../config/features.js')).features(),
  pause: async (g, id) => (await import('../runtime/commands/pause.js')).pause(g, id),
  resume: async (g, id) => (await import('../runtime/commands/pause.js')).resume(g, id),
  update: async (g, id, changes) => (await import('../runtime/commands/update.js')).update(g, id, changes),
  events: async (g, id, o, emit) => (await import('../runtime/commands/events.js')).events(g, id, o, emit),
  ps: async (g, id, format, psArgs) => (await import('../runtime/commands/ps.js')).ps(g, id, format, psArgs),
};
