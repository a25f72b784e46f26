import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runtimeActions } from '../../../src/cli/actions.js';
import type { GlobalOptions } from '../../../src/runtime/options.js';
import { temporaryDir } from '../runtime/fixtures.js';

// koffi requires its native addon, which then sits in the require cache.
function koffiLoaded(): boolean {
  return Object.keys(createRequire(import.meta.url).cache).some((file) => file.endsWith('/koffi.node'));
}

describe('lazy loading', () => {
  it('state and list run without loading koffi; kill loads it', async () => {
    const g: GlobalOptions = { root: join(temporaryDir(), 'root'), debug: false, systemdCgroup: false };
    await runtimeActions.list(g);
    await expect(runtimeActions.state(g, 'nosuch')).rejects.toThrow('does not exist');
    expect(koffiLoaded()).toBe(false);
    await expect(runtimeActions.kill(g, 'nosuch', 15, false)).rejects.toThrow('does not exist');
    expect(koffiLoaded()).toBe(true);
  });
});
