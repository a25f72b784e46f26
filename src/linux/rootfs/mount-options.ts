import { MS } from '../../../ffi/constants.js';

/** What a mount's `options` array means to mount(2). */
export interface ParsedMountOptions {
  /** Flags for the mount itself. */
  flags: number;
  /** Propagation flags, applied by a separate mount(2) call. */
  propagation: number[];
  /** Comma-joined filesystem-specific options (the `data` argument). */
  data: string;
  bind: boolean;
  recursive: boolean;
  /** "tmpcopyup": the new tmpfs gets a copy of the directory it covers (see plan-copy-up.ts). */
  copyUp: boolean;
  /** MOUNT_ATTR_* to set and clear on the whole subtree (the r* options), via mount_setattr(2). */
  recursiveSet: number;
  recursiveClear: number;
}

// option -> [clear?, flag]: "rw" clears MS_RDONLY, "ro" sets it, and so on.
const FLAG_OPTIONS: Record<string, [boolean, number]> = {
  async: [true, MS.SYNCHRONOUS],
  atime: [true, MS.NOATIME],
  defaults: [false, 0],
  dev: [true, MS.NODEV],
  diratime: [true, MS.NODIRATIME],
  dirsync: [false, MS.DIRSYNC],
  exec: [true, MS.NOEXEC],
  mand: [false, MS.MANDLOCK],
  noatime: [false, MS.NOATIME],
  nodev: [false, MS.NODEV],
  nodiratime: [false, MS.NODIRATIME],
  noexec: [false, MS.NOEXEC],
  nomand: [true, MS.MANDLOCK],
  norelatime: [true, MS.RELATIME],
  nostrictatime: [true, MS.STRICTATIME],
  nosuid: [false, MS.NOSUID],
  nosymfollow: [false, MS.NOSYMFOLLOW],
  relatime: [false, MS.RELATIME],
  remount: [false, MS.REMOUNT],
  ro: [false, MS.RDONLY],
  rw: [true, MS.RDONLY],
  strictatime: [false, MS.STRICTATIME],
  suid: [true, MS.NOSUID],
  symfollow: [true, MS.NOSYMFOLLOW],
  sync: [false, MS.SYNCHRONOUS],
  lazytime: [false, MS.LAZYTIME],
  nolazytime: [true, MS.LAZYTIME],
};

const PROPAGATION_OPTIONS: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** mount_setattr(2) attributes (linux/mount.h). */
export const MOUNT_ATTR = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  ATIME_MASK: 0x70,
  NOATIME: 0x10,
  STRICTATIME: 0x20,
  NODIRATIME: 0x80,
  NOSYMFOLLOW: 0x200000,
} as const;

// option -> [clear?, attribute]: the recursive forms of the flags above,
// applied to every mount under the destination.
const RECURSIVE_OPTIONS: Record<string, [boolean, number]> = {
  rro: [false, MOUNT_ATTR.RDONLY],
  rrw: [true, MOUNT_ATTR.RDONLY],
  rnosuid: [false, MOUNT_ATTR.NOSUID],
  rsuid: [true, MOUNT_ATTR.NOSUID],
  rnodev: [false, MOUNT_ATTR.NODEV],
  rdev: [true, MOUNT_ATTR.NODEV],
  rnoexec: [false, MOUNT_ATTR.NOEXEC],
  rexec: [true, MOUNT_ATTR.NOEXEC],
  rnodiratime: [false, MOUNT_ATTR.NODIRATIME],
  rdiratime: [true, MOUNT_ATTR.NODIRATIME],
  rnosymfollow: [false, MOUNT_ATTR.NOSYMFOLLOW],
  rsymfollow: [true, MOUNT_ATTR.NOSYMFOLLOW],
};

/** Options tsrun recognises but does not implement yet: refused, never ignored. */
const UNSUPPORTED = new Set(['idmap', 'ridmap', 'rnoatime', 'ratime', 'rrelatime', 'rnorelatime', 'rstrictatime', 'rnostrictatime']);

export function parseMountOptions(options: readonly string[] = []): ParsedMountOptions {
  const parsed: ParsedMountOptions = { flags: 0, propagation: [], data: '', bind: false, recursive: false, copyUp: false, recursiveSet: 0, recursiveClear: 0 };
  const data: string[] = [];
  for (const option of options) {
    if (option === 'bind' || option === 'rbind') {
      parsed.bind = true;
      parsed.recursive ||= option === 'rbind';
      continue;
    }
    if (option === 'tmpcopyup') {
      parsed.copyUp = true;
      continue;
    }
    if (UNSUPPORTED.has(option)) throw new Error(`mount option "${option}" is not supported by tsrun yet`);
    const recursiveAttr = RECURSIVE_OPTIONS[option];
    if (recursiveAttr !== undefined) {
      const [clear, attr] = recursiveAttr;
      if (clear) {
        parsed.recursiveClear |= attr;
        parsed.recursiveSet &= ~attr;
      } else {
        parsed.recursiveSet |= attr;
        parsed.recursiveClear &= ~attr;
      }
      continue;
    }
    const flag = FLAG_OPTIONS[option];
    if (flag !== undefined) {
      const [clear, bit] = flag;
      parsed.flags = clear ? parsed.flags & ~bit : parsed.flags | bit;
      continue;
    }
    const propagation = PROPAGATION_OPTIONS[option];
    if (propagation !== undefined) {
      parsed.propagation.push(propagation);
      continue;
    }
    data.push(option);
  }
  parsed.data = data.join(',');
  return parsed;
}

/** rootfsPropagation (and the "/" default) as mount(2) flags. */
export function propagationFlags(name: string): number {
  const flags = PROPAGATION_OPTIONS[name];
  if (flags === undefined) throw new Error(`linux.rootfsPropagation "${name}" is not a propagation mode`);
  return flags;
}
