import { koffi } from './koffi.js';

/**
 * The glibc functions tsrun calls from the Node process itself. Loaded on
 * first use so that commands which never touch the kernel directly (state,
 * list, spec) do not pay for koffi.
 *
 * Pointers are passed as bigint addresses of native memory (see arena.ts) or
 * as Buffers; every function returns the raw libc result and callers read
 * errno with lastErrno() right after the call.
 */
function bind() {
  const lib = koffi().load('libc.so.6');
  const f = (decl: string) => lib.func(decl);
  return {
    dlopen: f('void *dlopen(const char *file, int mode)'),
    dlsym: f('void *dlsym(void *handle, const char *name)'),
    mmap: f('void *mmap(void *addr, size_t length, int prot, int flags, int fd, long offset)'),
    munmap: f('int munmap(void *addr, size_t length)'),
    mprotect: f('int mprotect(void *addr, size_t length, int prot)'),
    pthreadSelf: f('void *pthread_self(void)'),
    getauxval: f('unsigned long getauxval(unsigned long type)'),
    getcontext: f('int getcontext(void *ucp)'),
    makecontext: f('void makecontext(void *ucp, void *fn, int argc, ...)'),
    clone: f('int clone(void *fn, void *stack, int flags, void *arg, ...)'),
    errnoLocation: f('int *__errno_location(void)'),
    pthreadSigmask: f('int pthread_sigmask(int how, void *set, void *oldset)'),
    pipe2: f('int pipe2(_Out_ int *fds, int flags)'),
    read: f('long read(int fd, _Out_ uint8_t *buf, size_t count)'),
    write: f('long write(int fd, const uint8_t *buf, size_t count)'),
    close: f('int close(int fd)'),
    open: f('int open(const char *path, int flags, ...)'),
    fcntl: f('int fcntl(int fd, int cmd, ...)'),
    flock: f('int flock(int fd, int operation)'),
    mkfifo: f('int mkfifo(const char *path, uint32_t mode)'),
    kill: f('int kill(int pid, int sig)'),
    waitpid: f('int waitpid(int pid, _Out_ int *status, int options)'),
    prlimit: f('int prlimit(int pid, int resource, const uint64_t *newLimit, _Out_ uint64_t *oldLimit)'),
    syscall: f('long syscall(long number, ...)'),
    getpid: f('int getpid(void)'),
    setns: f('int setns(int fd, int nstype)'),
    memfdCreate: f('int memfd_create(const char *name, unsigned int flags)'),
    eventfd: f('int eventfd(unsigned int initval, int flags)'),
    umount2: f('int umount2(const char *target, int flags)'),
    unshare: f('int unshare(int flags)'),
    prctl: f('int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)'),
    ioctl: f('int ioctl(int fd, unsigned long request, ...)'),
    socket: f('int socket(int domain, int type, int protocol)'),
    connect: f('int connect(int fd, const uint8_t *addr, uint32_t len)'),
    sendmsg: f('long sendmsg(int fd, const uint8_t *msg, int flags)'),
    schedSetaffinity: f('int sched_setaffinity(int pid, size_t size, const uint8_t *mask)'),
    schedGetaffinity: f('int sched_getaffinity(int pid, size_t size, _Out_ uint8_t *mask)'),
  };
}

export type Libc = ReturnType<typeof bind>;

let bound: Libc | undefined;

export function libc(): Libc {
  bound ??= bind();
  return bound;
}

/** The errno left by the last libc call on this thread. */
export function lastErrno(): number {
  return koffi().errno();
}

const RTLD_NOW = 2;
const RTLD_NOLOAD = 4;
let libcHandle: unknown;

/**
 * The address of a libc function, for the call chain: libc's own
 * definition. dlsym(RTLD_DEFAULT) may answer with a stub in the node
 * executable instead (a non-PIE binary that takes a function's address
 * defines the symbol as its PLT entry), and the chain runs no code outside
 * libc: the rest of the process is unmapped before it waits (memory-map.ts).
 */
export function symbolAddress(name: string): bigint {
  libcHandle ??= libc().dlopen('libc.so.6', RTLD_NOW | RTLD_NOLOAD);
  if (libcHandle === null) throw new Error('dlopen: libc.so.6 is not loaded');
  const ptr = libc().dlsym(libcHandle, name);
  if (ptr === null) throw new Error(`dlsym: glibc has no symbol ${name}`);
  return koffi().address(ptr);
}
