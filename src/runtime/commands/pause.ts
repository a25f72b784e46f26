import { Container } from '../container/container.js';
import type { GlobalOptions } from '../options.js';

/**
 * `tsrun pause`: freeze every process of a created or running container
 * (runc allows both). The status becomes "paused" because the status is
 * read from the cgroup's freezer; nothing is stored.
 */
export async function pause(g: GlobalOptions, id: string): Promise<void> {
  await Container.locked(g.root, id, async (container) => {
    container.allow('pause');
    await container.requireCgroup('paused').setFrozen(true);
  });
}

/** `tsrun resume`: thaw a paused container. */
export async function resume(g: GlobalOptions, id: string): Promise<void> {
  await Container.locked(g.root, id, async (container) => {
    container.allow('resume');
    await container.requireCgroup('resumed').setFrozen(false);
  });
}
