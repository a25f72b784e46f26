import { koffi } from './koffi.js';
import { readFileSync } from 'node:fs';
import { lastErrno, libc } from './libc.js';
import { SyscallError } from './syscall-error.js';

/**
 * libseccomp, used only in the parent to compile a profile into classic BPF.
 * It knows every architecture's syscall numbers and how to multiplex them;
 * the container process just installs the exported bytes with seccomp(2).
 * Its functions return a negative errno on failure.
 */
function bind() {
  const lib = koffi().load('libseccomp.so.2');
  const f = (decl: string) => lib.func(decl);
  return {
    init: f('void *seccomp_init(uint32_t defaultAction)'),
    release: f('void seccomp_release(void *ctx)'),
    archResolveName: f('uint32_t seccomp_arch_resolve_name(const char *name)'),
    archNative: f('uint32_t seccomp_arch_native(void)'),
    archAdd: f('int seccomp_arch_add(void *ctx, uint32_t arch)'),
    syscallResolveName: f('int seccomp_syscall_resolve_name(const char *name)'),
    ruleAddArray: f('int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int count, const uint8_t *args)'),
    attrSet: f('int seccomp_attr_set(void *ctx, int attr, uint32_t value)'),
    exportBpf: f('int seccomp_export_bpf(void *ctx, int fd)'),
  };
}

type LibSeccomp = ReturnType<typeof bind>;
let bound: LibSeccomp | undefined;

export function libseccomp(): LibSeccomp {
  if (bound === undefined) {
    try {
      bound = bind();
    } catch (error) {
      throw new Error(`linux.seccomp needs libseccomp.so.2 (Debian package libseccomp2): ${(error as Error).message}`);
    }
  }
  return bound;
}

/** A libseccomp result: negative errno means failure. */
export function check(result: number, call: string, subject?: string): number {
  if (result < 0) throw new SyscallError(call, -result, subject);
  return result;
}

/** seccomp_export_bpf into a memfd, read back as bytes (struct sock_filter[]). */
export function exportBpf(ctx: unknown): Uint8Array {
  const c = libc();
  const fd = c.memfdCreate('tsrun-seccomp', MFD_CLOEXEC);
  if (fd < 0) throw new SyscallError('memfd_create', lastErrno(), 'seccomp export');
  try {
    check(libseccomp().exportBpf(ctx, fd), 'seccomp_export_bpf');
    return readFileSync(`/proc/self/fd/${fd}`);
  } finally {
    c.close(fd);
  }
}

const MFD_CLOEXEC = 1;
