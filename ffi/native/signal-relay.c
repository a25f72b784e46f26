/*
 * signal-relay: the one part of tsrun written in C (docs/process.md, "The
 * real-time signals", argues why). Node can listen for the signals it has
 * names for, but not for the real-time ones (34-64), and they cannot be
 * blocked and read from a signalfd either: Node's own threads exist before
 * any JavaScript runs, with those signals unblocked, so the kernel hands one
 * to them and its default action ends tsrun.
 *
 * tsrun_relay_signals(fd, first, last) catches first..last with a handler
 * that writes the signal's number, one byte, to fd: the non-blocking write
 * end of a pipe whose read end Node watches. The handler may run on any of
 * Node's threads; it only calls write(2), which is async-signal-safe, and
 * keeps errno. A full pipe (64 KiB of signals not read yet) drops the byte.
 * tsrun_restore_signals() gives those it set (all of them, or those before
 * the one that failed) back the actions they had. Both return 0, or -errno
 * of the first sigaction(2) that failed.
 */
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#define LAST_SIGNAL 64

static volatile int relay_fd = -1;
static struct sigaction before[LAST_SIGNAL + 1];
static int relayed_first = 1, relayed_last = 0;

static void relay(int signo) {
  int saved = errno;
  unsigned char byte = (unsigned char)signo;
  ssize_t written = write(relay_fd, &byte, 1);
  (void)written;
  errno = saved;
}

int tsrun_relay_signals(int fd, int first, int last) {
  if (first < 1 || last > LAST_SIGNAL || first > last) return -EINVAL;
  struct sigaction action = {0};
  action.sa_handler = relay;
  /* Node's blocking calls resume rather than fail with EINTR. */
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  relay_fd = fd;
  relayed_first = first;
  relayed_last = first - 1;
  for (int signo = first; signo <= last; signo++) {
    if (sigaction(signo, &action, &before[signo]) != 0) return -errno;
    relayed_last = signo;
  }
  return 0;
}

int tsrun_restore_signals(void) {
  int failed = 0;
  for (int signo = relayed_first; signo <= relayed_last; signo++) {
    if (sigaction(signo, &before[signo], NULL) != 0 && failed == 0) failed = -errno;
  }
  relayed_first = 1;
  relayed_last = 0;
  return failed;
}
