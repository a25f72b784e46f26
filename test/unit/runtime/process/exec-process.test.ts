import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Process } from '../../../../src/config/types.js';
import { execProcess, mergeEnv, parseUser, type ExecProcessOptions } from '../../../../src/runtime/process/exec-process.js';
import { temporaryDir } from '../fixtures.js';

const base: Process = {
  terminal: true,
  args: ['sleep', '100'],
  env: ['PATH=/bin', 'HOME=/root'],
  cwd: '/',
  user: { uid: 0, gid: 0, additionalGids: [10] },
  capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },
  noNewPrivileges: true,
  rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
};
const none: ExecProcessOptions = { args: ['ls'], env: [], caps: [] };

describe('execProcess', () => {
  it("starts from the container's process: new args, terminal off unless -t, the rest kept", () => {
    expect(execProcess(base, none)).toEqual({ ...base, args: ['ls'], terminal: false, user: { uid: 0, gid: 0, additionalGids: [10] } });
    expect(execProcess(base, { ...none, tty: true }).terminal).toBe(true);
  });

  it('applies --cwd, --env (a repeated key keeps its last value), --user, --additional-gids and --no-new-privs', () => {
    const p = execProcess(base, { ...none, cwd: '/tmp', env: ['HOME=/home/x', 'A=1'], user: '5:6', additionalGids: [7], noNewPrivs: false });
    expect(p.cwd).toBe('/tmp');
    expect(p.env).toEqual(['PATH=/bin', 'HOME=/home/x', 'A=1']);
    expect(p.user).toEqual({ uid: 5, gid: 6, additionalGids: [7] });
    expect(p.noNewPrivileges).toBe(false);
    // --user without a gid keeps the config's gid.
    expect(execProcess(base, { ...none, user: '5' }).user).toEqual({ uid: 5, gid: 0, additionalGids: [10] });
  });

  it('adds --cap to bounding, effective and permitted; to ambient only when the config has inheritable capabilities', () => {
    const p = execProcess(base, { ...none, caps: ['CAP_CHOWN'] });
    expect(p.capabilities).toEqual({ bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_KILL', 'CAP_CHOWN'], permitted: ['CAP_KILL', 'CAP_CHOWN'] });
    const withInheritable = execProcess({ ...base, capabilities: { ...base.capabilities, inheritable: ['CAP_KILL'] } }, { ...none, caps: ['CAP_CHOWN'] });
    expect(withInheritable.capabilities?.ambient).toEqual(['CAP_CHOWN']);
  });

  it('reads --process as the whole process, checked like config.json and reported against that file', () => {
    const dir = temporaryDir();
    const good = join(dir, 'p.json');
    writeFileSync(good, JSON.stringify({ args: ['id'], cwd: '/', user: { uid: 3, gid: 4 } }));
    expect(execProcess(base, { ...none, args: [], processFile: good })).toEqual({ args: ['id'], cwd: '/', user: { uid: 3, gid: 4 } });
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ args: ['id'], cwd: 'tmp' }));
    expect(() => execProcess(base, { ...none, args: [], processFile: bad })).toThrow(`${bad}: /cwd: must be an absolute path`);
    expect(() => execProcess(base, { ...none, processFile: good })).toThrow('either --process or a command');
  });

  it('refuses a --process file over the size limit config.json has, naming it', () => {
    const huge = join(temporaryDir(), 'huge.json');
    writeFileSync(huge, JSON.stringify({ args: ['id'], cwd: '/', env: [`BIG=${'x'.repeat(3 * 1024 * 1024)}`] }));
    expect(() => execProcess(base, { ...none, args: [], processFile: huge })).toThrow(`--process ${huge}: is larger than 2097152 bytes (2 MiB)`);
  });

  it("keeps the container's AppArmor profile and SELinux label unless --apparmor/--process-label or the --process file names its own (runc's rule)", () => {
    const confined: Process = { ...base, apparmorProfile: 'container-profile', selinuxLabel: 'system_u:system_r:container_t:s0' };
    expect(execProcess(confined, none)).toMatchObject({ apparmorProfile: 'container-profile', selinuxLabel: 'system_u:system_r:container_t:s0' });
    expect(execProcess(confined, { ...none, apparmor: 'other', processLabel: 'label' })).toMatchObject({ apparmorProfile: 'other', selinuxLabel: 'label' });
    // An empty flag is not given: it does not run the process unconfined.
    expect(execProcess(confined, { ...none, apparmor: '', processLabel: '' })).toMatchObject({ apparmorProfile: 'container-profile', selinuxLabel: 'system_u:system_r:container_t:s0' });
    const dir = temporaryDir();
    const plain = join(dir, 'plain.json');
    writeFileSync(plain, JSON.stringify({ args: ['id'], cwd: '/' }));
    expect(execProcess(confined, { ...none, args: [], processFile: plain })).toMatchObject({
      apparmorProfile: 'container-profile',
      selinuxLabel: 'system_u:system_r:container_t:s0',
    });
    const own = join(dir, 'own.json');
    writeFileSync(own, JSON.stringify({ args: ['id'], cwd: '/', apparmorProfile: 'mine' }));
    expect(execProcess(confined, { ...none, args: [], processFile: own }).apparmorProfile).toBe('mine');
  });

  it("gives a --process without oomScoreAdj the container's, as runc gives every exec process; one of its own wins", () => {
    const adjusted: Process = { ...base, oomScoreAdj: 100 };
    expect(execProcess(adjusted, none).oomScoreAdj).toBe(100);
    const dir = temporaryDir();
    const plain = join(dir, 'plain.json');
    writeFileSync(plain, JSON.stringify({ args: ['id'], cwd: '/' }));
    expect(execProcess(adjusted, { ...none, args: [], processFile: plain }).oomScoreAdj).toBe(100);
    expect(execProcess(base, { ...none, args: [], processFile: plain })).not.toHaveProperty('oomScoreAdj');
    const own = join(dir, 'own.json');
    writeFileSync(own, JSON.stringify({ args: ['id'], cwd: '/', oomScoreAdj: -5 }));
    expect(execProcess(adjusted, { ...none, args: [], processFile: own }).oomScoreAdj).toBe(-5);
  });

  it('needs a command', () => {
    expect(() => execProcess(base, { ...none, args: [] })).toThrow('a command is required');
  });
});

describe('parseUser and mergeEnv', () => {
  it('take uid[:gid] and KEY=VALUE only', () => {
    expect(parseUser('12')).toEqual({ uid: 12 });
    expect(parseUser('12:34')).toEqual({ uid: 12, gid: 34 });
    expect(() => parseUser('root')).toThrow('--user: "root" is not uid or uid:gid');
    expect(() => mergeEnv([], ['NOEQUALS'])).toThrow('--env: "NOEQUALS" is not KEY=VALUE');
  });
});
