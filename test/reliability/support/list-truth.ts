import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasStackTrace, tsrun } from './tsrun.js';

/**
 * What is wrong with what `list` says of `id` under `root`, or undefined. A
 * container is listed exactly when it has a state.json, and its status is
 * what the kernel shows: stopped when its init is gone or a zombie, created
 * while the init still has tsrun's command line (it has not exec'd; the
 * bundles here run `sleep`), running once it runs `sleep`.
 */
export async function listProblem(root: string, scratch: string, id: string): Promise<string | undefined> {
  const r = await tsrun(root, scratch, ['list', '--format', 'json']);
  if (r.status !== 0 || hasStackTrace(r.stderr)) return `list failed: ${r.stderr}`;
  const entry = (JSON.parse(r.stdout === '' ? '[]' : r.stdout) as Array<{ id: string; status: string; pid: number }>).find((c) => c.id === id);
  const hasState = existsSync(join(root, id, 'state.json'));
  if (entry === undefined) return hasState ? `list omits ${id}, which has a state.json` : undefined;
  if (!hasState) return `list shows ${id} (${entry.status}), which has no state.json`;
  let cmdline: string | undefined;
  try {
    cmdline = readFileSync(`/proc/${entry.pid}/cmdline`, 'utf8');
  } catch {
    cmdline = undefined;
  }
  const zombie = cmdline !== undefined && /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${entry.pid}/stat`, 'utf8'));
  const alive = entry.pid > 0 && cmdline !== undefined && !zombie;
  if ((entry.status === 'stopped') === alive) return `list says ${entry.status}, but init ${entry.pid} is ${alive ? 'alive' : 'gone'}`;
  const execed = cmdline?.split('\0')[0] === 'sleep';
  if (entry.status === 'created' && execed) return `list says created, but init ${entry.pid} runs ${cmdline?.replaceAll('\0', ' ')}`;
  if (entry.status === 'running' && !execed) return `list says running, but init ${entry.pid} has not exec'd`;
  return undefined;
}
