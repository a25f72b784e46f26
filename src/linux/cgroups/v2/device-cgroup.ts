import { closeSync, constants, openSync } from 'node:fs';
import {
  BPF_CGROUP_DEVICE,
  BPF_F_ALLOW_MULTI,
  BPF_PROG_TYPE_CGROUP_DEVICE,
  bpfProgAttach,
  bpfProgLoad,
} from '../../../../ffi/bpf.js';
import { errnoName, SyscallError } from '../../../../ffi/syscall-error.js';
import type { LinuxDeviceCgroup } from '../../../config/types.js';
import { compileDeviceProgram } from './device-program.js';
import { effectiveDeviceRules, type DeviceRule } from '../device-rules.js';

/**
 * Enforce linux.resources.devices on a cgroup v2 directory: cgroup v2 has no
 * devices.allow file, the kernel asks a BPF_PROG_TYPE_CGROUP_DEVICE program
 * attached to the cgroup (and to each ancestor that has one) instead.
 * The default devices and the leading "deny all" are added here.
 */
export function applyDeviceRules(cgroupDir: string, rules: LinuxDeviceCgroup[] | undefined): void {
  attachDeviceProgram(cgroupDir, effectiveDeviceRules(rules));
}

/**
 * Compile exactly `rules`, load the program and attach it to `cgroupDir`.
 *
 * Attached with BPF_F_ALLOW_MULTI, as runc, crun and systemd do: the kernel
 * then runs the programs of the cgroup and of all its ancestors and allows a
 * device only when every one of them does. So a nested runtime or systemd in
 * the container can add its own programs to sub-cgroups but never loosen
 * ours (BPF_F_ALLOW_OVERRIDE would let a sub-cgroup's program replace ours; no
 * flag would forbid sub-cgroups any program). If the cgroup already holds
 * programs (a cgroupsPath shared with another container), ours joins them.
 *
 * Both fds are closed before returning: the attachment holds the program,
 * which lives until it is detached or the cgroup is removed.
 *
 * Replacing the rules later (`tsrun update`), not built yet: load the new
 * program, BPF_PROG_QUERY this cgroup; with exactly one old program, attach
 * with BPF_F_ALLOW_MULTI | BPF_F_REPLACE and replace_bpf_fd set to an fd from
 * BPF_PROG_GET_FD_BY_ID (atomic, Linux 5.6+); otherwise attach the new one
 * first and then BPF_PROG_DETACH the old ones. Never detach first: for that
 * moment the cgroup would have no device restriction at all, while two
 * programs at once are only stricter than either.
 */
export function attachDeviceProgram(cgroupDir: string, rules: readonly DeviceRule[]): void {
  const progFd = bpfProgLoad({
    type: BPF_PROG_TYPE_CGROUP_DEVICE,
    insns: compileDeviceProgram(rules),
    license: 'Apache-2.0',
    name: 'tsrun_devices',
  });
  try {
    const cgroupFd = openDirectory(cgroupDir);
    try {
      bpfProgAttach(cgroupFd, progFd, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI, cgroupDir);
    } finally {
      closeSync(cgroupFd);
    }
  } finally {
    closeSync(progFd);
  }
}

function openDirectory(dir: string): number {
  try {
    return openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).errno;
    if (typeof errno !== 'number') throw error;
    const hint = errnoName(-errno) === 'ENOENT' ? 'the cgroup must be created before its device rules are applied' : undefined;
    throw new SyscallError('open', -errno, dir, hint);
  }
}
