import { inInitialUserNamespace } from '../linux/caller.js';

/**
 * Like runc: /run/tsrun, except for a caller who cannot write /run and has
 * a XDG_RUNTIME_DIR: an unprivileged user, or root of a user namespace that
 * is not the host's (rootless podman), unless USER says "root" there.
 */
export function defaultRoot(env: NodeJS.ProcessEnv = process.env, euid = process.geteuid?.() ?? 0, hostNamespace = inInitialUserNamespace): string {
  const runtimeDir = env['XDG_RUNTIME_DIR'];
  if (runtimeDir === undefined || runtimeDir === '') return '/run/tsrun';
  const honoured = euid !== 0 || (!hostNamespace() && env['USER'] !== 'root');
  return honoured ? `${runtimeDir}/tsrun` : '/run/tsrun';
}
