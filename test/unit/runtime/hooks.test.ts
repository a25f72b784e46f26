import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Hook, State } from '../../../src/config/types.js';
import { HookError, runHook, runHooks } from '../../../src/runtime/hooks.js';
import { temporaryDir } from './fixtures.js';

const state: State = { ociVersion: '1.3.0', id: 'c1', status: 'created', pid: 42, bundle: '/bundles/c1' };

function script(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('runHook', () => {
  it('gives the hook the state JSON on stdin', () => {
    const dir = temporaryDir();
    const path = script(dir, 'hook', `cat > ${dir}/stdin`);
    runHook('createRuntime', 0, { path }, state);
    expect(JSON.parse(readFileSync(join(dir, 'stdin'), 'utf8'))).toEqual(state);
  });

  it('passes args with args[0] as argv[0]', () => {
    const dir = temporaryDir();
    // busybox picks its applet by argv[0]: "touch" only runs if args[0] arrived as argv[0].
    runHook('prestart', 0, { path: '/bin/busybox', args: ['touch', join(dir, 'touched')] }, state);
    expect(existsSync(join(dir, 'touched'))).toBe(true);
  });

  it('gives exactly the env listed', () => {
    const dir = temporaryDir();
    const path = script(dir, 'hook', `env > ${dir}/env`);
    runHook('poststart', 0, { path, env: ['FOO=bar=baz', 'EMPTY='] }, state);
    const env = readFileSync(join(dir, 'env'), 'utf8').split('\n');
    expect(env).toContain('FOO=bar=baz');
    expect(env).toContain('EMPTY=');
    expect(env.some((line) => line.startsWith('HOME='))).toBe(false);
  });

  it('inherits the runtime’s env when the hook lists none', () => {
    const dir = temporaryDir();
    const path = script(dir, 'hook', `echo "$TSRUN_HOOK_TEST" > ${dir}/env`);
    process.env.TSRUN_HOOK_TEST = 'inherited';
    try {
      runHook('poststart', 0, { path }, state);
    } finally {
      delete process.env.TSRUN_HOOK_TEST;
    }
    expect(readFileSync(join(dir, 'env'), 'utf8').trim()).toBe('inherited');
  });

  it('reports phase, index, path, exit status and stderr of a failing hook', () => {
    const path = script(temporaryDir(), 'fails', 'echo "no network for you" >&2; exit 3');
    let error: unknown;
    try {
      runHook('createContainer', 2, { path }, state);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(HookError);
    expect((error as HookError).message).toBe(`createContainer hook #2 (${path}) exited with status 3; stderr: no network for you`);
  });

  it('reports a hook killed by a signal', () => {
    const path = script(temporaryDir(), 'dies', 'kill -SEGV $$');
    expect(() => runHook('prestart', 0, { path }, state)).toThrow(`prestart hook #0 (${path}) was killed by SIGSEGV`);
  });

  it('reports a hook that cannot be run', () => {
    expect(() => runHook('prestart', 0, { path: '/nonexistent/hook' }, state)).toThrow(
      /prestart hook #0 \(\/nonexistent\/hook\) could not be run: .*ENOENT/,
    );
  });

  it('kills a hook that outlives its timeout', () => {
    const dir = temporaryDir();
    const path = script(dir, 'slow', `echo $$ > ${dir}/pid; exec sleep 30`);
    const began = Date.now();
    expect(() => runHook('poststop', 0, { path, timeout: 1 }, state)).toThrow(
      `poststop hook #0 (${path}) did not finish within its timeout of 1s and was killed`,
    );
    expect(Date.now() - began).toBeLessThan(5000);
    const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    expect(existsSync(`/proc/${pid}`)).toBe(false);
  });
});

describe('runHooks', () => {
  it('runs hooks in order and stops at the first failure', () => {
    const dir = temporaryDir();
    const log = join(dir, 'log');
    const hooks: Hook[] = [
      { path: script(dir, 'one', `echo one >> ${log}`) },
      { path: script(dir, 'two', `echo two >> ${log}; exit 1`) },
      { path: script(dir, 'three', `echo three >> ${log}`) },
    ];
    expect(() => runHooks('prestart', hooks, state)).toThrow('prestart hook #1');
    expect(readFileSync(log, 'utf8')).toBe('one\ntwo\n');
  });

  it('does nothing without hooks', () => {
    expect(() => runHooks('poststop', undefined, state)).not.toThrow();
  });
});

describe('runHook and stdin', () => {
  it('does not mind a hook that ignores its stdin, however large the state', () => {
    const path = script(temporaryDir(), 'deaf', 'exit 0');
    const big: State = { ...state, annotations: { filler: 'x'.repeat(1_000_000) } };
    for (let i = 0; i < 5; i++) expect(() => runHook('poststart', 0, { path }, big)).not.toThrow();
  });
});
