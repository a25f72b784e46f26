/*
 * measure: runs one command and appends "<exit status> <wall µs> <peak RSS KiB>" to a file.
 *
 *   measure OUT COMMAND [ARG...]
 *
 * Why a wrapper of its own: GNU time prints wall time in centiseconds (runc's `state` takes
 * about 9 ms), hyperfine gives no memory, and neither one gives both from the same run.
 * wait4() returns the command's rusage with that of every descendant it waited for
 * (RUSAGE_BOTH in the kernel), so ru_maxrss is the largest resident set among the command and
 * its waited-for helpers; a process that outlives it (a container's init) is not counted.
 * The clock starts just before fork() and stops when wait4() returns, so the wrapper's own
 * start-up is not in the figure. The command's stdio is inherited; the caller redirects it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: measure OUT COMMAND [ARG...]\n");
    return 2;
  }
  long long start = now_us();
  pid_t pid = fork();
  if (pid < 0) {
    perror("measure: fork");
    return 2;
  }
  if (pid == 0) {
    execvp(argv[2], argv + 2);
    fprintf(stderr, "measure: %s: %s\n", argv[2], strerror(errno));
    _exit(127);
  }
  int status;
  struct rusage ru;
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) {
      perror("measure: wait4");
      return 2;
    }
  }
  long long wall = now_us() - start;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  FILE *out = fopen(argv[1], "a");
  if (out == NULL) {
    perror(argv[1]);
    return 2;
  }
  fprintf(out, "%d %lld %ld\n", code, wall, ru.ru_maxrss);
  fclose(out);
  /* The command's status is the wrapper's, so callers can still tell failures. */
  return code;
}
