import { watch } from 'node:fs';
import { join } from 'node:path';

/**
 * OOM events of a cgroup2 directory: the kernel notifies a change of
 * memory.events (an inotify modify event) when one of its counters moves,
 * oom_kill among them. Each change calls `onEvent`; the returned function
 * stops watching. Without a memory controller there is nothing to watch.
 */
export function watchMemoryEvents(dir: string, onEvent: () => void): () => void {
  try {
    const watcher = watch(join(dir, 'memory.events'), { persistent: true }, () => onEvent());
    return () => watcher.close();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return () => undefined;
    throw error;
  }
}
