import { check, exportBpf, libseccomp } from '../../../ffi/libseccomp.js';
import type { Seccomp, SeccompAction, SeccompArg, SeccompSyscall } from '../../config/types.js';

/** A profile compiled for seccomp(2): the filter program and its flags. */
export interface CompiledSeccomp {
  /** struct sock_filter[] (8 bytes per instruction). */
  readonly filter: Uint8Array;
  /** SECCOMP_FILTER_FLAG_* for seccomp(SECCOMP_SET_MODE_FILTER). */
  readonly flags: number;
  /** Syscall names the kernel's tables here do not know; skipped, as runc does. */
  readonly unknownSyscalls: readonly string[];
  /**
   * Some rule is SCMP_ACT_NOTIFY: seccomp(2) is asked for a listener fd
   * (SECCOMP_FILTER_FLAG_NEW_LISTENER), which goes to linux.seccomp.listenerPath.
   */
  readonly notify: boolean;
}

const EPERM = 1;
const NOTIFY = 0x7fc0_0000;
const SECCOMP_FILTER_FLAG_NEW_LISTENER = 8;

// The chain reports each step's errno with write(2) and waits at a
// checkpoint with read(2), and the parent can only take the listener fd at
// the checkpoint after the install: a process stopped on one of these
// would wait for a listener that never got its fd.
const NEVER_NOTIFIED = new Set(['read', 'write']);

// The kernel's SECCOMP_RET_* values, which libseccomp's SCMP_ACT_* are.
function actionValue(action: SeccompAction, errnoRet: number | undefined): number {
  switch (action) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return 0x0000_0000;
    case 'SCMP_ACT_KILL_PROCESS':
      return 0x8000_0000;
    case 'SCMP_ACT_TRAP':
      return 0x0003_0000;
    case 'SCMP_ACT_ERRNO':
      return 0x0005_0000 | ((errnoRet ?? EPERM) & 0xffff);
    case 'SCMP_ACT_TRACE':
      return 0x7ff0_0000 | ((errnoRet ?? EPERM) & 0xffff);
    case 'SCMP_ACT_LOG':
      return 0x7ffc_0000;
    case 'SCMP_ACT_ALLOW':
      return 0x7fff_0000;
    case 'SCMP_ACT_NOTIFY':
      return NOTIFY;
  }
}

const FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
};

// enum scmp_compare
const OPERATORS: Record<string, number> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

/**
 * Compile linux.seccomp with libseccomp: the default action, the extra
 * architectures, and one rule per syscall name (per argument condition when
 * a rule compares the same argument twice, which libseccomp refuses in one
 * rule: runc's reading, an OR of those conditions).
 */
export function compileSeccomp(profile: Seccomp): CompiledSeccomp {
  const lib = libseccomp();
  const defaultAction = actionValue(profile.defaultAction, profile.defaultErrnoRet);
  if (defaultAction === NOTIFY) {
    throw new Error('linux.seccomp.defaultAction: SCMP_ACT_NOTIFY for every syscall would stop the process before it could hand over its listener; notify on named syscalls instead');
  }
  const notify = (profile.syscalls ?? []).some((rule) => rule.action === 'SCMP_ACT_NOTIFY');
  if (notify && (profile.listenerPath ?? '') === '') {
    throw new Error('linux.seccomp.listenerPath: SCMP_ACT_NOTIFY needs a listener socket to send the seccomp fd to');
  }
  const ctx = lib.init(defaultAction);
  if (ctx === null) throw new Error('seccomp_init failed: linux.seccomp.defaultAction may not be valid on this kernel');
  try {
    for (const arch of profile.architectures ?? []) {
      const token = lib.archResolveName(archName(arch));
      if (token === 0) throw new Error(`linux.seccomp.architectures: libseccomp does not know ${arch}`);
      const added = lib.archAdd(ctx, token);
      // The native architecture is already in a new filter.
      if (added < 0 && added !== -17 /* EEXIST */) check(added, 'seccomp_arch_add', arch);
    }
    const unknownSyscalls: string[] = [];
    (profile.syscalls ?? []).forEach((rule, i) => addRule(ctx, rule, defaultAction, `linux.seccomp.syscalls[${i}]`, unknownSyscalls));
    const flags = (profile.flags ?? []).reduce((all, name) => {
      const flag = FLAGS[name];
      if (flag === undefined) throw new Error(`linux.seccomp.flags: ${name} is not supported`);
      return all | flag;
    }, 0);
    return { filter: exportBpf(ctx), flags: notify ? flags | SECCOMP_FILTER_FLAG_NEW_LISTENER : flags, unknownSyscalls, notify };
  } finally {
    lib.release(ctx);
  }
}

function addRule(ctx: unknown, rule: SeccompSyscall, defaultAction: number, field: string, unknown: string[]): void {
  const lib = libseccomp();
  if (rule.errnoRet !== undefined && rule.action !== 'SCMP_ACT_ERRNO' && rule.action !== 'SCMP_ACT_TRACE') {
    throw new Error(`${field}.errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE return an errno; ${rule.action} cannot return ${rule.errnoRet}`);
  }
  // runtime-spec: a rule without errnoRet returns EPERM; defaultErrnoRet is the default action's alone.
  const action = actionValue(rule.action, rule.errnoRet);
  const blocking = rule.names.filter((name) => NEVER_NOTIFIED.has(name));
  if (action === NOTIFY && blocking.length > 0) {
    throw new Error(`${field}: SCMP_ACT_NOTIFY on ${blocking.join(', ')} would stop tsrun's own setup before the listener has its fd; these cannot be notified`);
  }
  // libseccomp refuses a rule that only restates the default action: compare
  // the final values, errno included (ERRNO(EPERM) under ERRNO(ENOSYS) is a rule).
  if (action === defaultAction) return;
  const args = rule.args ?? [];
  const indexes = args.map((a) => a.index);
  const groups = new Set(indexes).size === indexes.length ? [args] : args.map((a) => [a]);
  for (const name of rule.names) {
    const nr = lib.syscallResolveName(name);
    // -1 is "unknown"; other negative numbers are libseccomp's pseudo-syscalls for names
    // that exist only on another listed architecture (mmap2 on x86), and are valid.
    if (nr === -1) {
      unknown.push(name);
      continue;
    }
    for (const group of groups) {
      const packed = packArgs(group, field);
      check(lib.ruleAddArray(ctx, action, nr, group.length, packed), 'seccomp_rule_add', `${field} ${name}`);
    }
  }
}

// struct scmp_arg_cmp { unsigned int arg; enum scmp_compare op; uint64 datum_a, datum_b; }
function packArgs(args: readonly SeccompArg[], field: string): Buffer {
  const buf = Buffer.alloc(Math.max(24 * args.length, 8));
  args.forEach((a, i) => {
    const op = OPERATORS[a.op];
    if (op === undefined) throw new Error(`${field}.args[${i}].op: unknown operator ${a.op}`);
    buf.writeUInt32LE(a.index, 24 * i);
    buf.writeUInt32LE(op, 24 * i + 4);
    buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(a.value)), 24 * i + 8);
    buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(a.valueTwo ?? 0)), 24 * i + 16);
  });
  return buf;
}

/** SCMP_ARCH_X86_64 -> "x86_64", the name libseccomp resolves. */
function archName(arch: string): string {
  return arch.replace(/^SCMP_ARCH_/, '').toLowerCase();
}
