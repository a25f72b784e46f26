import { chmodSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '../../config/types.js';
import type { CgroupPlacement } from '../../linux/cgroups/manager.js';
import type { HostMountsOfCreate } from '../../linux/rootfs/host-mounts.js';
import { assertValidId } from './container-id.js';
import type { ContainerRecord } from './container-record.js';

/**
 * The init of a create, recorded as soon as it exists: once it stops dying
 * with tsrun (after its "ready" checkpoint) and until state.json is written,
 * a SIGKILLed create leaves it waiting, and a container with no cgroup (a
 * rootless one on a cgroup v1 host) has nothing else that finds it.
 */
export interface InitOfCreate {
  readonly pid: number;
  /** As ContainerRecord.pidStartTime: a later process with the same pid is not it. */
  readonly pidStartTime: number;
}

export class ContainerNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`container ${id} does not exist`);
    this.name = 'ContainerNotFoundError';
  }
}

export class ContainerExistsError extends Error {
  constructor(readonly id: string) {
    super(`container ${id} already exists`);
    this.name = 'ContainerExistsError';
  }
}

/**
 * A file of the container's directory that does not parse: after a power
 * loss on a root that is on a disk (the writes are not fsynced), or written
 * by hand. `delete --force` cleans such a container up as it does an
 * unfinished create.
 */
export class CorruptStateError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file} is corrupt: ${detail}; \`delete --force\` removes the container and what its create recorded`);
    this.name = 'CorruptStateError';
  }
}

const STATE_FILE = 'state.json';
const CONFIG_FILE = 'config.json';
const CGROUP_FILE = 'cgroup.json';
const HOST_MOUNTS_FILE = 'host-mounts.json';
const INIT_FILE = 'init.json';

/**
 * Containers on disk: one directory per container under the --root directory,
 * holding state.json (a ContainerRecord), config.json (the bundle's config as
 * it was at create time), cgroup.json (the cgroups create makes, written
 * just before they are made, for a delete after a create that died before
 * state.json), host-mounts.json (for a container without a mount namespace:
the host's mounts before create made its own, likewise) and, until start,
exec.fifo.
 */
export class StateStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    // Every path is built from the id: validating here keeps "../x" out of all of them.
    assertValidId(id);
    return join(this.root, id);
  }

  fifoPath(id: string): string {
    return join(this.dir(id), 'exec.fifo');
  }

  /** Claims the id by creating its directory; fails if it is taken. */
  reserve(id: string): string {
    const dir = this.dir(id);
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    try {
      mkdirSync(dir, { mode: 0o711 });
    } catch (error) {
      if (isErrno(error, 'EEXIST')) throw new ContainerExistsError(id);
      throw error;
    }
    // mkdir's mode is filtered by the umask; others need x to reach exec.fifo.
    chmodSync(dir, 0o711);
    return dir;
  }

  write(record: ContainerRecord): void {
    writeAtomically(join(this.dir(record.id), STATE_FILE), `${JSON.stringify(record)}\n`);
  }

  read(id: string): ContainerRecord {
    const file = join(this.dir(id), STATE_FILE);
    // A directory without state.json is a create that has not finished (or crashed).
    const text = readIfExists(file);
    if (text === undefined) throw new ContainerNotFoundError(id);
    return parseRecord(file, text);
  }

  writeConfig(id: string, spec: Spec): void {
    this.writeJson(id, CONFIG_FILE, spec);
  }

  /** The config snapshot taken at create time; undefined if create never got that far. */
  readConfig(id: string): Spec | undefined {
    return this.readJson(id, CONFIG_FILE) as Spec | undefined;
  }

  writeCgroupOfCreate(id: string, placement: CgroupPlacement): void {
    this.writeJson(id, CGROUP_FILE, placement);
  }

  /** The cgroups an unfinished create made, if it got that far. */
  readCgroupOfCreate(id: string): CgroupPlacement | undefined {
    return this.readJson(id, CGROUP_FILE) as CgroupPlacement | undefined;
  }

  writeInitOfCreate(id: string, init: InitOfCreate): void {
    this.writeJson(id, INIT_FILE, init);
  }

  /** The process an unfinished create started, if it got that far. */
  readInitOfCreate(id: string): InitOfCreate | undefined {
    return this.readJson(id, INIT_FILE) as InitOfCreate | undefined;
  }

  writeHostMountsOfCreate(id: string, before: HostMountsOfCreate): void {
    this.writeJson(id, HOST_MOUNTS_FILE, before);
  }

  /** What the host had mounted before an unfinished create of a container without a mount namespace made its own. */
  readHostMountsOfCreate(id: string): HostMountsOfCreate | undefined {
    return this.readJson(id, HOST_MOUNTS_FILE) as HostMountsOfCreate | undefined;
  }

  private writeJson(id: string, name: string, value: unknown): void {
    writeAtomically(join(this.dir(id), name), `${JSON.stringify(value)}\n`);
  }

  /** A JSON file of the container's directory; undefined when it is not there. */
  private readJson(id: string, name: string): unknown {
    const file = join(this.dir(id), name);
    const text = readIfExists(file);
    return text === undefined ? undefined : parseJson(file, text);
  }

  /** Ids of every container directory, in name order; none if the root does not exist. */
  ids(): string[] {
    let entries;
    try {
      entries = readdirSync(this.root, { withFileTypes: true });
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return [];
      throw error;
    }
    return entries
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  }

  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
  }
}

/**
 * Readers never see a half-written file: write a sibling, rename it over.
 * The rename is what a SIGKILL at any instant cannot tear. There is no fsync,
 * as in runc: the state describes processes, which a power loss (the one case
 * fsync covers) ends anyway, and a root on a disk then holds at worst a file
 * that readers refuse as corrupt and `delete --force` removes. Four fsyncs
 * cost a create about 4 ms on this machine kind's ext4 root.
 */
function writeAtomically(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    const fd = openSync(temporary, 'w', 0o600);
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CorruptStateError(file, (error as Error).message);
  }
}

const RECORD_FIELDS: Readonly<Record<string, 'string' | 'number' | 'boolean'>> = {
  ociVersion: 'string',
  id: 'string',
  pid: 'number',
  bundle: 'string',
  pidStartTime: 'number',
  created: 'string',
  rootfs: 'string',
  owner: 'number',
  started: 'boolean',
};

function parseRecord(file: string, text: string): ContainerRecord {
  const value = parseJson(file, text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CorruptStateError(file, 'expected a JSON object');
  }
  const fields = value as Record<string, unknown>;
  for (const [name, type] of Object.entries(RECORD_FIELDS)) {
    if (typeof fields[name] !== type) throw new CorruptStateError(file, `"${name}" should be a ${type}`);
  }
  return value as ContainerRecord;
}

function isErrno(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}
