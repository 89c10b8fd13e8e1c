/*
 * supervise.c - vlsb-supervise: runs a program (VPP) as its child and makes
 * sure it never outlives vlsbench. It asks the kernel for SIGTERM when its
 * parent dies (PR_SET_PDEATHSIG), forwards SIGTERM/SIGINT to the child,
 * kills it (SIGKILL after a grace period) once the parent is gone, and
 * removes the run directory afterwards.
 *
 *   vlsb-supervise --rmdir DIR [--grace-ms N] -- PROGRAM ARGS...
 * Exit status: the child's, or 128+signal.
 */
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got_signal;
static void on_signal(int s) { got_signal = s; }

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, 0);
}

int main(int argc, char **argv) {
  const char *rmdir_path = 0;
  int grace_ms = 2000;
  int i = 1;
  for (; i < argc; i++) {
    if (!strcmp(argv[i], "--rmdir") && i + 1 < argc)
      rmdir_path = argv[++i];
    else if (!strcmp(argv[i], "--grace-ms") && i + 1 < argc)
      grace_ms = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--")) {
      i++;
      break;
    } else {
      fprintf(stderr, "vlsb-supervise: unknown argument '%s'\n", argv[i]);
      return 2;
    }
  }
  if (i >= argc) {
    fprintf(stderr, "usage: vlsb-supervise [--rmdir DIR] [--grace-ms N] -- PROGRAM ARGS...\n");
    return 2;
  }
  pid_t parent = getppid();
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent)
    return 1; /* the parent died before the request took effect */
  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, 0);
  sigaction(SIGINT, &sa, 0);
  pid_t child = fork();
  if (child < 0) {
    perror("vlsb-supervise: fork");
    return 1;
  }
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    execv(argv[i], argv + i);
    fprintf(stderr, "vlsb-supervise: cannot run %s: %s\n", argv[i], strerror(errno));
    _exit(127);
  }
  int status = 0, done = 0, waited_ms = 0, termed = 0;
  while (!done) {
    pid_t r = waitpid(child, &status, WNOHANG);
    if (r == child) {
      done = 1;
      break;
    }
    if ((got_signal || getppid() != parent) && !termed) {
      kill(child, SIGTERM);
      termed = 1;
    }
    if (termed && (waited_ms += 10) > grace_ms)
      kill(child, SIGKILL);
    sleep_ms(10);
  }
  if (rmdir_path && *rmdir_path)
    nftw(rmdir_path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
