/*
 * runtime.c - the ground floor: clock, stop flag, options, forked children
 * (runtime.h).
 */

#include "runtime.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static atomic_int stop_flag;

double rt_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

void rt_stop_set(int stop) { atomic_store(&stop_flag, stop ? 1 : 0); }
int rt_stop_requested(void) { return atomic_load(&stop_flag); }

int rt_option_get(const char *options, const char *key, char *out, int cap) {
  if (!options || !key || cap <= 0)
    return 0;
  size_t kl = strlen(key);
  const char *p = options;
  while (*p) {
    while (*p == ';' || *p == ' ')
      p++;
    if (!strncmp(p, key, kl) && p[kl] == '=') {
      p += kl + 1;
      int n = 0;
      while (p[n] && p[n] != ';' && n < cap - 1) {
        out[n] = p[n];
        n++;
      }
      out[n] = 0;
      return 1;
    }
    p = strchr(p, ';');
    if (!p)
      break;
  }
  return 0;
}

/* ---------------- forked children ---------------- */

static void on_term(int sig) {
  (void)sig;
  rt_stop_set(1);
}

/* Test hook: VLSB_TEST_FORK_FAIL_AT=k makes the fork of child k (0-based)
 * of each rt_fork_children call fail with EAGAIN, as fork does when a
 * process limit is hit. */
static int fork_fail_at(void) {
  const char *e = getenv("VLSB_TEST_FORK_FAIL_AT");
  return e && *e ? atoi(e) : -1;
}

/* Kills and waits for the first n children of a call that cannot finish. */
static void undo_children(int32_t *pids, int n) {
  for (int i = 0; i < n; i++) {
    if (pids[i] <= 0)
      continue;
    kill(pids[i], SIGKILL);
    while (waitpid(pids[i], 0, 0) < 0 && errno == EINTR) {
    }
    pids[i] = 0;
  }
}

int rt_fork_children(int n, int32_t *pids_out, rt_child_body_t body, int arg) {
  int fail_at = fork_fail_at();
  for (int i = 0; i < n; i++) {
    pid_t pid;
    if (i == fail_at) {
      pid = -1;
      errno = EAGAIN;
    } else {
      pid = fork();
    }
    if (pid < 0) {
      /* All or nothing: a caller told "n workers" must have n of them. */
      int err = errno;
      undo_children(pids_out, i);
      return -err;
    }
    if (pid == 0) {
      /* The child never returns to its caller (JS cannot run in it). */
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      struct sigaction sa = {.sa_handler = on_term};
      sigemptyset(&sa.sa_mask);
      sigaction(SIGTERM, &sa, 0);
      sigaction(SIGINT, &sa, 0);
      rt_stop_set(0);
      _exit(body(arg) < 0 ? 1 : 0);
    }
    pids_out[i] = (int32_t)pid;
  }
  return n;
}

#define RT_MAX_CHILDREN 64
static pid_t children[RT_MAX_CHILDREN];
static int n_children;

void rt_child_record(pid_t pid) {
  if (n_children < RT_MAX_CHILDREN)
    children[n_children++] = pid;
}

int rt_children_reap(void) {
  int n = 0;
  for (int i = 0; i < n_children;) {
    int st;
    if (waitpid(children[i], &st, WNOHANG) == children[i]) {
      rt_child_exit_note(children[i], st);
      children[i] = children[--n_children];
      n++;
    } else {
      i++;
    }
  }
  return n;
}

/* Exits of reaped children not yet read (pid, wait status), a small ring
 * that drops the oldest when full. Only the thread that reaps writes it. */
#define RT_EXIT_RING 64
static int32_t exits[RT_EXIT_RING][2];
static atomic_uint exits_head, exits_tail;

void rt_child_exit_note(pid_t pid, int status) {
  unsigned h = atomic_load(&exits_head);
  exits[h % RT_EXIT_RING][0] = (int32_t)pid;
  exits[h % RT_EXIT_RING][1] = status;
  atomic_store(&exits_head, h + 1);
  if (h + 1 - atomic_load(&exits_tail) > RT_EXIT_RING)
    atomic_store(&exits_tail, h + 1 - RT_EXIT_RING);
}

int rt_child_exits_drain(int32_t *out, int max) {
  int n = 0;
  unsigned t = atomic_load(&exits_tail), h = atomic_load(&exits_head);
  for (; t != h && n < max; t++, n++) {
    out[2 * n] = exits[t % RT_EXIT_RING][0];
    out[2 * n + 1] = exits[t % RT_EXIT_RING][1];
  }
  atomic_store(&exits_tail, t);
  return n;
}
