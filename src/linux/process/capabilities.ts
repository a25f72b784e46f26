/** Linux capability numbers (include/uapi/linux/capability.h), by spec name. */
export const CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

export function capabilityNumber(name: string, field: string): number {
  const n = CAPABILITIES.indexOf(name);
  if (n < 0) throw new Error(`${field}: unknown capability ${name}`);
  return n;
}

/** A capability set as the 64-bit mask /proc/<pid>/status prints (CapEff etc.). */
export function capabilityMask(names: readonly string[] | undefined, field: string, lastCap: number): bigint {
  let mask = 0n;
  for (const name of names ?? []) {
    const n = capabilityNumber(name, field);
    // Like runc, a capability this kernel does not know is skipped, not fatal.
    if (n <= lastCap) mask |= 1n << BigInt(n);
  }
  return mask;
}
