import { ConfigError } from '../../config/config-error.js';
import { SPEC_VERSION } from '../../config/spec-version.js';
import type { Process } from '../../config/types.js';
import { readLimited, tooLargeMessage, validateSpec } from '../../config/validate.js';

/** What `tsrun exec` was told about the process, besides the container id. */
export interface ExecProcessOptions {
  /** --process: a process.json that replaces the container's process entirely. */
  readonly processFile?: string;
  /** The command and its arguments (without --process). */
  readonly args: readonly string[];
  /** -t/--tty; undefined when not given (then false, as in runc). */
  readonly tty?: boolean;
  readonly cwd?: string;
  /** --env KEY=VALUE, appended to the container's environment (a repeated key: the last wins). */
  readonly env: readonly string[];
  /** --user uid[:gid] */
  readonly user?: string;
  readonly additionalGids?: readonly number[];
  /** --cap CAP_X: added to the bounding, effective and permitted sets. */
  readonly caps: readonly string[];
  readonly noNewPrivs?: boolean;
  readonly apparmor?: string;
  readonly processLabel?: string;
}

/**
 * The process `exec` runs: either the one in --process, or the container's
 * own process (from config.json) with the command line's changes applied,
 * as runc does. A --process without an AppArmor profile or SELinux label
 * gets the container's, as in runc: the confinement of a container is not
 * dropped by leaving a field out. Nor is its oomScoreAdj: runc gives every
 * exec process the container's, so a --process without one gets the
 * container's too (an engine's process.json may leave it out), and one that
 * names its own gets that (config.md makes it a field of the process).
 */
export function execProcess(base: Process | undefined, o: ExecProcessOptions): Process {
  if (o.processFile !== undefined) {
    if (o.args.length > 0) throw new Error('exec: give either --process or a command, not both');
    const proc = readProcessFile(o.processFile);
    return {
      ...proc,
      ...(nonEmpty(proc.apparmorProfile) || base?.apparmorProfile === undefined ? {} : { apparmorProfile: base.apparmorProfile }),
      ...(nonEmpty(proc.selinuxLabel) || base?.selinuxLabel === undefined ? {} : { selinuxLabel: base.selinuxLabel }),
      ...(proc.oomScoreAdj !== undefined || base?.oomScoreAdj === undefined ? {} : { oomScoreAdj: base.oomScoreAdj }),
    };
  }
  if (o.args.length === 0) throw new Error('exec: a command is required (tsrun exec <id> <command> [args...]), or --process');
  if (base === undefined) throw new Error("exec: the container's config has no process to start from; use --process");
  const caps = base.capabilities ?? {};
  const added = (set: readonly string[] | undefined) => [...new Set([...(set ?? []), ...o.caps])];
  const capabilities =
    o.caps.length === 0
      ? base.capabilities
      : {
          ...caps,
          bounding: added(caps.bounding),
          effective: added(caps.effective),
          permitted: added(caps.permitted),
          // An ambient capability must also be inheritable, and --cap does
          // not touch the inheritable set: only add ambient ones where the
          // config already has inheritable capabilities (runc's rule).
          ...(caps.inheritable === undefined ? {} : { ambient: added(caps.ambient) }),
        };
  const user = o.user === undefined ? base.user : { ...base.user, ...parseUser(o.user) };
  return {
    ...base,
    args: [...o.args],
    env: mergeEnv(base.env ?? [], o.env),
    terminal: o.tty ?? false,
    ...(o.cwd === undefined ? {} : { cwd: o.cwd }),
    user: {
      ...user,
      uid: user?.uid ?? 0,
      gid: user?.gid ?? 0,
      ...(o.additionalGids === undefined ? {} : { additionalGids: [...o.additionalGids] }),
    },
    ...(capabilities === undefined ? {} : { capabilities }),
    ...(o.noNewPrivs === undefined ? {} : { noNewPrivileges: o.noNewPrivs }),
    // An empty flag is not given (runc's rule): it does not drop the container's confinement.
    ...(nonEmpty(o.apparmor) ? { apparmorProfile: o.apparmor } : {}),
    ...(nonEmpty(o.processLabel) ? { selinuxLabel: o.processLabel } : {}),
  };
}

function nonEmpty(value: string | undefined): boolean {
  return value !== undefined && value !== '';
}

/** --user: "uid" or "uid:gid", numbers only (names would need the container's /etc/passwd). */
export function parseUser(value: string): { uid: number; gid?: number } {
  const match = /^(\d+)(?::(\d+))?$/.exec(value);
  if (match === null) throw new Error(`--user: "${value}" is not uid or uid:gid (numbers)`);
  const [, uid, gid] = match;
  return { uid: Number(uid), ...(gid === undefined ? {} : { gid: Number(gid) }) };
}

/** Appended, but a key set twice keeps only its last value: getenv(3) would find the first. */
export function mergeEnv(base: readonly string[], extra: readonly string[]): string[] {
  const byKey = new Map<string, string>();
  for (const entry of [...base, ...extra]) {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new Error(`--env: "${entry}" is not KEY=VALUE`);
    const key = entry.slice(0, eq);
    byKey.delete(key);
    byKey.set(key, entry);
  }
  return [...byKey.values()];
}

/** A process.json, checked with the same schema and rules as config.json's process. */
function readProcessFile(path: string): Process {
  let value: unknown;
  try {
    const text = readLimited(path);
    if (text === undefined) throw new Error(tooLargeMessage());
    value = JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`--process ${path}: ${(error as Error).message}`);
  }
  try {
    const spec = validateSpec({ ociVersion: SPEC_VERSION, root: { path: 'rootfs' }, process: value }, { onWarning: () => {} });
    if (spec.process === undefined) throw new Error('no process');
    return spec.process;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Problems are located in a config.json wrapped around the process: point into the file instead.
    const problems = error.problems.map((p) => ({ ...p, location: p.location.replace(/^\/process/, '') }));
    throw new ConfigError(path, problems);
  }
}
