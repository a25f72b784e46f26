import { accessSync, constants, existsSync } from 'node:fs';
import { chmod, copyFile, cp, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { runCommand } from './exec.js';
import { mapWithLimit } from './pool.js';

/**
 * The one pinned version of the OCI runtime-tools validation suite.
 *
 * `@latest` resolves to the only tag, v0.9.0 (March 2019), which has no go.mod (its dependencies
 * are in Godeps), so module mode would build it against whatever dependency versions are newest,
 * and it lacks seven years of fixes to the validation programs. The pin is therefore a
 * pseudo-version of master, the newest commit found on the module proxy (2026-03-16; the proxy
 * answers `@master` with 403, so commits have to be named explicitly). spec-tests/README.md says
 * how the pin is chosen and how to move it (expectations.json's `suite` must name the same version).
 */
export const SUITE = {
  module: 'github.com/opencontainers/runtime-tools',
  version: 'v0.9.1-0.20260316125833-8a4db579f5c8',
} as const;

export interface SuiteProgram {
  readonly name: string;
  /** Absolute path of the built program; null when it cannot be run. */
  readonly binary: string | null;
  /** Why the program cannot be run (its own build, or runtimetest's, failed). */
  readonly buildError: string | null;
  /** Reads cgroups through the suite's readers, which implement cgroup v1 only. */
  readonly readsCgroups: boolean;
}

export interface SuiteBuild {
  readonly version: string;
  readonly goVersion: string;
  readonly scratchDir: string;
  /** The suite's module source, as the module proxy served it. */
  readonly sourceDir: string;
  /** Working directory for the programs: holds runtimetest and the rootfs tarball they expect. */
  readonly workDir: string;
  readonly programs: readonly SuiteProgram[];
  readonly builtCount: number;
  readonly cachedCount: number;
  readonly failedCount: number;
  readonly durationMs: number;
}

export interface PrepareOptions {
  readonly go: string;
  readonly log: (line: string) => void;
  /** Concurrent `go build`s; the CI machines have 2 cores. */
  readonly jobs?: number;
}

/**
 * Everything of the suite lives here, outside the repository, cached between runs:
 * `${TSRUN_SPEC_SCRATCH:-$TMPDIR/tsrun-spec-tests}/<version>`, so a new pin never reuses old binaries.
 */
function scratchDir(): string {
  const base = process.env['TSRUN_SPEC_SCRATCH'] ?? join(tmpdir(), 'tsrun-spec-tests');
  return join(base, SUITE.version);
}

/** The Go toolchain: `go` on PATH, else the tarball install location of Debian images. */
export function findGo(): string | null {
  const candidates = (process.env['PATH'] ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '')
    .map((dir) => join(dir, 'go'));
  candidates.push('/usr/local/go/bin/go');
  return candidates.find(isExecutable) ?? null;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Raised when the suite cannot be obtained at all (no module, no rootfs); per-program build failures are not errors. */
export class SuiteUnavailableError extends Error {}

// A cgroup reader is used either directly or through util.ValidateLinuxResources*.
const CGROUP_READER = /"github\.com\/opencontainers\/runtime-tools\/cgroups"|util\.ValidateLinuxResources/;

interface BuildTarget {
  readonly name: string;
  readonly pkg: string;
  readonly static: boolean;
}

interface BuildOutcome {
  readonly name: string;
  readonly binary: string | null;
  readonly error: string | null;
  readonly cached: boolean;
}

/** Downloads (once), builds (what is not cached) and stages the suite. */
export async function prepareSuite(options: PrepareOptions): Promise<SuiteBuild> {
  const started = Date.now();
  const scratch = scratchDir();
  const srcDir = join(scratch, 'src');
  const binDir = join(scratch, 'bin');
  const logDir = join(scratch, 'logs');
  await mkdir(binDir, { recursive: true });
  await mkdir(logDir, { recursive: true });
  const env = goEnv(scratch);

  const goInfo = await runCommand(options.go, ['env', 'GOVERSION', 'GOARCH'], { env });
  const [goVersion, goArch] = goInfo.stdout.trim().split('\n');
  if (goInfo.code !== 0 || goVersion === undefined || goArch === undefined) {
    throw new SuiteUnavailableError(`${options.go} env failed: ${goInfo.spawnError ?? goInfo.stderr.trim()}`);
  }

  if (!existsSync(srcDir)) await fetchSource(options, env, scratch, srcDir);

  const programs = await discoverPrograms(srcDir);
  const targets: BuildTarget[] = [
    { name: 'runtimetest', pkg: './cmd/runtimetest', static: true },
    ...programs.map((name) => ({ name, pkg: `./validation/${name}`, static: false })),
  ];
  const pending = targets.filter((target) => !existsSync(join(binDir, target.name)));
  if (pending.length > 0) {
    options.log(`building ${pending.length} of ${targets.length} binaries of ${SUITE.module}@${SUITE.version} (${options.jobs ?? 2} jobs)`);
    // Fetch the dependencies once, up front, instead of racing for them in parallel builds.
    const download = await runCommand(options.go, ['mod', 'download'], { cwd: srcDir, env });
    if (download.code !== 0) {
      throw new SuiteUnavailableError(`go mod download failed: ${download.spawnError ?? download.stderr.trim()}`);
    }
  }
  const outcomes = await mapWithLimit(targets, options.jobs ?? 2, (target) =>
    buildTarget(target, { go: options.go, env, srcDir, binDir, logDir, log: options.log }),
  );

  const [runtimetest, ...programOutcomes] = outcomes as [BuildOutcome, ...BuildOutcome[]];
  const workDir = join(scratch, 'work');
  if (runtimetest.binary !== null) await stageWorkDir(workDir, runtimetest.binary, srcDir, goArch);

  const suitePrograms = await Promise.all(
    programOutcomes.map(async (outcome): Promise<SuiteProgram> => {
      const buildError =
        runtimetest.error !== null ? `runtimetest did not build: ${runtimetest.error}` : outcome.error;
      return {
        name: outcome.name,
        binary: buildError === null ? outcome.binary : null,
        buildError,
        readsCgroups: await readsCgroups(join(srcDir, 'validation', outcome.name)),
      };
    }),
  );
  const cachedCount = outcomes.filter((outcome) => outcome.cached).length;
  const failedCount = outcomes.filter((outcome) => outcome.binary === null).length;
  return {
    version: SUITE.version,
    goVersion,
    scratchDir: scratch,
    sourceDir: srcDir,
    workDir,
    programs: suitePrograms,
    builtCount: outcomes.length - cachedCount - failedCount,
    cachedCount,
    failedCount,
    durationMs: Date.now() - started,
  };
}

function goEnv(scratch: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    // Module and build caches inside the scratch folder: nothing lands in the repository or $HOME.
    GOMODCACHE: join(scratch, 'gomodcache'),
    GOCACHE: join(scratch, 'gocache'),
    GOPATH: join(scratch, 'gopath'),
    // The module zip ships vendor/modules.txt without the vendored code, which makes Go default
    // to -mod=vendor and fail; resolve dependencies through the module proxy instead.
    GOFLAGS: '-mod=mod -buildvcs=false',
    // A pin that needs a newer Go must fail loudly, not download a toolchain behind our back.
    GOTOOLCHAIN: 'local',
    GOWORK: 'off',
  };
}

async function fetchSource(options: PrepareOptions, env: NodeJS.ProcessEnv, scratch: string, srcDir: string): Promise<void> {
  options.log(`downloading ${SUITE.module}@${SUITE.version}`);
  const result = await runCommand(options.go, ['mod', 'download', '-json', `${SUITE.module}@${SUITE.version}`], { cwd: scratch, env });
  let info: { Dir?: string; Version?: string; Error?: string };
  try {
    info = JSON.parse(result.stdout) as typeof info;
  } catch {
    throw new SuiteUnavailableError(`go mod download failed: ${result.spawnError ?? result.stderr.trim()}`);
  }
  if (result.code !== 0 || info.Dir === undefined || info.Version !== SUITE.version) {
    throw new SuiteUnavailableError(`go mod download failed: ${info.Error ?? result.stderr.trim()}`);
  }
  // The module cache is read-only and `go build -mod=mod` may need to touch go.sum: work on a
  // writable copy, renamed into place only once complete so an interrupted copy is not reused.
  const partial = `${srcDir}.partial`;
  await rm(partial, { recursive: true, force: true });
  await cp(info.Dir, partial, { recursive: true });
  await makeWritable(partial);
  await rename(partial, srcDir);
}

async function makeWritable(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    await chmod(path, entry.isDirectory() ? 0o755 : 0o644);
  }
  await chmod(dir, 0o755);
}

/** Every validation/<name>/<name>.go is one program; validation/util is their library. */
async function discoverPrograms(srcDir: string): Promise<string[]> {
  const validation = join(srcDir, 'validation');
  const entries = await readdir(validation, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isDirectory() && existsSync(join(validation, entry.name, `${entry.name}.go`)))
    .map((entry) => entry.name)
    .sort();
}

async function readsCgroups(programDir: string): Promise<boolean> {
  const files = (await readdir(programDir)).filter((file) => file.endsWith('.go'));
  const sources = await Promise.all(files.map((file) => readFile(join(programDir, file), 'utf8')));
  return sources.some((source) => CGROUP_READER.test(source));
}

interface BuildContext {
  readonly go: string;
  readonly env: NodeJS.ProcessEnv;
  readonly srcDir: string;
  readonly binDir: string;
  readonly logDir: string;
  readonly log: (line: string) => void;
}

async function buildTarget(target: BuildTarget, context: BuildContext): Promise<BuildOutcome> {
  const binary = join(context.binDir, target.name);
  if (existsSync(binary)) return { name: target.name, binary, error: null, cached: true };

  // Written under another name first, so a killed build never looks cached.
  const partial = join(context.binDir, `.${target.name}.partial`);
  const args = target.static
    ? ['build', '-tags', 'netgo osusergo', '-ldflags', '-extldflags -static', '-o', partial, target.pkg]
    : ['build', '-o', partial, target.pkg];
  const env = target.static ? { ...context.env, CGO_ENABLED: '0' } : context.env;
  const result = await runCommand(context.go, args, { cwd: context.srcDir, env });
  if (result.code !== 0) {
    const output = result.spawnError ?? result.stderr.trim();
    await writeFile(join(context.logDir, `${target.name}.build.log`), output + '\n');
    context.log(`build of ${target.name} failed (log: ${join(context.logDir, `${target.name}.build.log`)})`);
    return { name: target.name, binary: null, error: `build failed: ${output}`, cached: false };
  }
  await rename(partial, binary);
  return { name: target.name, binary, error: null, cached: false };
}

/** The programs copy ./runtimetest into each bundle and untar ./rootfs-$GOARCH.tar.gz. */
async function stageWorkDir(workDir: string, runtimetest: string, srcDir: string, goArch: string): Promise<void> {
  const rootfs = `rootfs-${goArch}.tar.gz`;
  if (!existsSync(join(srcDir, rootfs))) {
    throw new SuiteUnavailableError(`${SUITE.module}@${SUITE.version} has no ${rootfs}`);
  }
  await mkdir(workDir, { recursive: true });
  await copyFile(runtimetest, join(workDir, 'runtimetest'));
  await chmod(join(workDir, 'runtimetest'), 0o755);
  await copyFile(join(srcDir, rootfs), join(workDir, rootfs));
}
