// Try, one by one, system calls that busybox has no applet for, and print
// NAME=ok or NAME=<errno name> for each. Every probe runs in a child of its
// own, so one that changes the process (a new user namespace) cannot change
// the next. Build it static (the example rootfs has no libc):
//   cc -static -O1 -o probe examples/seccomp/probe.c -lpthread
// and run it in a container with and without examples/seccomp/default.json.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// A child made by clone(2) itself, not by glibc's fork(), so that the flags are ours.
static int clone_with(unsigned long flags) {
  long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) _exit(0);
  if (pid < 0) return -1;
  waitpid((pid_t)pid, 0, 0);
  return 0;
}

static int clone3_plain(void) {
  struct clone_args args = { .exit_signal = SIGCHLD };
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) _exit(0);
  if (pid < 0) return -1;
  waitpid((pid_t)pid, 0, 0);
  return 0;
}

static void *nothing(void *arg) { return arg; }

// glibc tries clone3 first and falls back to clone when clone3 says ENOSYS.
static int thread(void) {
  pthread_t t;
  int e = pthread_create(&t, 0, nothing, 0);
  if (e != 0) {
    errno = e;
    return -1;
  }
  return pthread_join(t, 0) == 0 ? 0 : -1;
}

static int set_personality(unsigned long persona) {
  return syscall(SYS_personality, persona) < 0 ? -1 : 0;
}

static int read_own_memory(void) {
  char from[4] = "abc", to[4];
  struct iovec local = { to, sizeof to }, remote = { from, sizeof from };
  return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) < 0 ? -1 : 0;
}

static int file_handle_of_root(void) {
  struct file_handle handle = { .handle_bytes = 0 };
  int mount_id;
  return name_to_handle_at(AT_FDCWD, "/", &handle, &mount_id, 0);
}

static int bad_clock_settime(void) {
  struct timespec ts = { 0, 0 };
  return clock_settime(12345, &ts); // no such clock: EINVAL when the call is allowed
}

static int run(const char *name) {
  if (!strcmp(name, "clone")) return clone_with(0);
  if (!strcmp(name, "clone_newuser")) return clone_with(CLONE_NEWUSER);
  if (!strcmp(name, "clone_newns")) return clone_with(CLONE_NEWNS);
  if (!strcmp(name, "clone3")) return clone3_plain();
  if (!strcmp(name, "pthread")) return thread();
  if (!strcmp(name, "unshare_files")) return unshare(CLONE_FILES);
  if (!strcmp(name, "unshare_newuser")) return unshare(CLONE_NEWUSER);
  if (!strcmp(name, "personality_query")) return set_personality(0xffffffffUL);
  if (!strcmp(name, "personality_linux32")) return set_personality(PER_LINUX32);
  if (!strcmp(name, "personality_uname26")) return set_personality(PER_LINUX | UNAME26);
  if (!strcmp(name, "personality_norandom")) return set_personality(PER_LINUX | ADDR_NO_RANDOMIZE);
  if (!strcmp(name, "keyctl")) return syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0) < 0 ? -1 : 0;
  if (!strcmp(name, "ptrace")) return syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0) < 0 ? -1 : 0;
  if (!strcmp(name, "process_vm_readv")) return read_own_memory();
  if (!strcmp(name, "kcmp")) return syscall(SYS_kcmp, getpid(), getpid(), 0 /* KCMP_FILE */, 0, 0) < 0 ? -1 : 0;
  if (!strcmp(name, "bpf")) return syscall(SYS_bpf, 9999, 0, 0) < 0 ? -1 : 0;
  if (!strcmp(name, "perf_event_open")) return syscall(SYS_perf_event_open, 0, 0, -1, -1, 0) < 0 ? -1 : 0;
  if (!strcmp(name, "io_uring_setup")) return syscall(SYS_io_uring_setup, 0, 0) < 0 ? -1 : 0;
  if (!strcmp(name, "clock_settime")) return bad_clock_settime();
  if (!strcmp(name, "name_to_handle_at")) return file_handle_of_root();
  if (!strcmp(name, "socket")) return socket(AF_INET, SOCK_STREAM, 0) < 0 ? -1 : 0;
  if (!strcmp(name, "memfd_create")) return memfd_create("probe", 0) < 0 ? -1 : 0;
  errno = ENOENT;
  return -2;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    int pipefd[2];
    if (pipe(pipefd) != 0) return 1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
      errno = 0;
      int r = run(argv[i]);
      int report = r == 0 ? 0 : r == -2 ? -1 : errno;
      (void)!write(pipefd[1], &report, sizeof report);
      _exit(0);
    }
    int report = -1;
    close(pipefd[1]);
    if (pid < 0 || read(pipefd[0], &report, sizeof report) != sizeof report) report = -2;
    close(pipefd[0]);
    if (pid > 0) waitpid(pid, 0, 0);
    if (report == 0) printf("%s=ok\n", argv[i]);
    else if (report == -1) printf("%s=no-such-probe\n", argv[i]);
    else if (report == -2) printf("%s=probe-died\n", argv[i]);
    else printf("%s=%s\n", argv[i], strerrorname_np(report));
  }
  return 0;
}
