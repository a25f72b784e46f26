/** Flags every command takes (runc's global flags). */
export interface GlobalOptions {
  /** Where container state lives; runc's --root. */
  readonly root: string;
  readonly debug: boolean;
  /** runc's --systemd-cgroup: cgroupsPath is slice:prefix:name. */
  readonly systemdCgroup: boolean;
}

/** `tsrun create` (and the create half of `run`). */
export interface CreateOptions {
  readonly id: string;
  /** Absolute path of the bundle directory. */
  readonly bundle: string;
  readonly pidFile?: string;
  readonly consoleSocket?: string;
  /** Extra fds, counted from 3, handed to the container process (besides LISTEN_FDS). */
  readonly preserveFds: number;
  /** Use MS_MOVE + chroot instead of pivot_root (initramfs roots). */
  readonly noPivot: boolean;
  readonly noNewKeyring: boolean;
}

/** `tsrun run`: create, start, and (unless detached) wait for the exit code. */
export interface RunOptions extends CreateOptions {
  readonly detach: boolean;
  /** Keep the container's state after it exits (runc --keep). */
  readonly keep: boolean;
}
