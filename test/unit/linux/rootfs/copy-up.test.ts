import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, constants, lchownSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyUp } from '../../../../src/linux/rootfs/copy-up.js';
import type { PlannedCopyUp } from '../../../../src/linux/rootfs/plan-copy-up.js';
import { temporaryDir } from '../fixtures.js';

/*
 * The copy a "copy-up" checkpoint makes, on real directories: this process
 * stands in for the container's (its own fds are reached through
 * /proc/<pid>/fd as the container's are), a plain directory for the tmpfs.
 */

const isRoot = process.getuid?.() === 0;
const open: number[] = [];
afterEach(() => {
  for (const fd of open.splice(0)) closeSync(fd);
});

function dirFd(path: string): number {
  const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY);
  open.push(fd);
  return fd;
}

/** An image directory with a file, a subdirectory, symlinks (one to a host directory), and an empty tmpfs stand-in. */
function scene(): { covered: string; tmpfs: string; planned: PlannedCopyUp } {
  const dir = temporaryDir();
  const covered = join(dir, 'image-run');
  const tmpfs = join(dir, 'tmpfs');
  mkdirSync(join(covered, 'sub/deeper'), { recursive: true });
  mkdirSync(tmpfs);
  chmodSync(tmpfs, 0o1777);
  writeFileSync(join(covered, 'file'), 'hello\n');
  chmodSync(join(covered, 'file'), 0o640);
  writeFileSync(join(covered, 'sub/deeper/tool'), '#!/bin/sh\n');
  chmodSync(join(covered, 'sub/deeper/tool'), 0o4755);
  chmodSync(join(covered, 'sub'), 0o700);
  symlinkSync('../etc/motd', join(covered, 'relative'));
  symlinkSync('/etc', join(covered, 'host-etc'));
  chmodSync(covered, 0o750);
  return { covered, tmpfs, planned: { field: 'mounts[7]', destination: '/run', covered: dirFd(covered), tmpfs: dirFd(tmpfs), createdBy: 12 } };
}

/** Every entry under `root` (symlinks not entered): path, mode, and a symlink's target or a file's content. */
function tree(root: string, prefix = ''): string[] {
  return readdirSync(join(root, prefix))
    .sort()
    .flatMap((name) => {
      const path = prefix === '' ? name : `${prefix}/${name}`;
      const st = lstatSync(join(root, path));
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) return [`${path} -> ${readlinkSync(join(root, path))}`];
      if (st.isDirectory()) return [`${path}/ ${mode}`, ...tree(root, path)];
      return [`${path} ${mode} ${JSON.stringify(readFileSync(join(root, path), 'utf8'))}`];
    });
}

describe('copyUp', () => {
  it('copies files, subdirectories and symlinks with their modes, set-id bits included, and leaves the image alone', () => {
    const s = scene();
    const before = tree(s.covered);
    copyUp(process.pid, s.planned, true);
    expect(tree(s.tmpfs)).toEqual([
      'file 640 "hello\\n"',
      'host-etc -> /etc',
      'relative -> ../etc/motd',
      'sub/ 700',
      'sub/deeper/ 755',
      'sub/deeper/tool 4755 "#!/bin/sh\\n"',
    ]);
    expect(tree(s.covered)).toEqual(before);
  });

  it('never follows a symlink of the image: one to a host directory is recreated, not entered', () => {
    const s = scene();
    copyUp(process.pid, s.planned, true);
    expect(lstatSync(join(s.tmpfs, 'host-etc')).isSymbolicLink()).toBe(true);
    // Nothing of the host's /etc was copied: the copy holds only the image's entries.
    expect(readdirSync(s.tmpfs).sort()).toEqual(['file', 'host-etc', 'relative', 'sub']);
    expect(readdirSync(join(s.tmpfs, 'sub'))).toEqual(['deeper']);
  });

  it("gives the tmpfs root the covered directory's mode and owner", () => {
    const s = scene();
    copyUp(process.pid, s.planned, true);
    const root = statSync(s.tmpfs);
    expect(root.mode & 0o7777).toBe(0o750);
    expect([root.uid, root.gid]).toEqual([statSync(s.covered).uid, statSync(s.covered).gid]);
  });

  it('does nothing for a destination the chain created: no content, and the tmpfs keeps the mode its options gave', () => {
    const s = scene();
    copyUp(process.pid, s.planned, false);
    expect(readdirSync(s.tmpfs)).toEqual([]);
    expect(statSync(s.tmpfs).mode & 0o7777).toBe(0o1777);
  });

  it.skipIf(!isRoot)('keeps owners of files, directories and symlinks; the root takes the mode but keeps its owner, as in runc', () => {
    const s = scene();
    lchownSync(join(s.covered, 'file'), 1000, 1001);
    lchownSync(join(s.covered, 'sub'), 1002, 1003);
    lchownSync(join(s.covered, 'relative'), 1004, 1005);
    lchownSync(s.covered, 1234, 1235);
    // chown clears the set-id bits: the copy must set the mode after the owner.
    lchownSync(join(s.covered, 'sub/deeper/tool'), 1006, 1007);
    chmodSync(join(s.covered, 'sub/deeper/tool'), 0o4755);
    copyUp(process.pid, s.planned, true);
    const owner = (path: string) => {
      const st = lstatSync(join(s.tmpfs, path));
      return `${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)}`;
    };
    expect(['file', 'sub', 'relative', 'sub/deeper/tool', '.'].map(owner)).toEqual(['1000:1001 640', '1002:1003 700', '1004:1005 777', '1006:1007 4755', '0:0 750']);
  });

  it('refuses a FIFO (as runc fails on one), naming the field and the path in the container', () => {
    const s = scene();
    execFileSync('mkfifo', [join(s.covered, 'sub/deeper/pipe')]);
    expect(() => copyUp(process.pid, s.planned, true)).toThrow(
      'mounts[7] (tmpcopyup of /run): /run/sub/deeper/pipe is a FIFO, which tmpcopyup does not copy (runc fails on it too): remove it from the image, or drop "tmpcopyup"',
    );
  });

  it('names the syscall, the container path and the errno when the copy cannot be made', () => {
    const s = scene();
    // The stand-in tmpfs already has an entry of that name: the copy never overwrites.
    writeFileSync(join(s.tmpfs, 'file'), 'in the way');
    expect(() => copyUp(process.pid, s.planned, true)).toThrow('mounts[7] (tmpcopyup of /run): copyfile /run/file: EEXIST');
  });
});
