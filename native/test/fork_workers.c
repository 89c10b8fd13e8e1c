/*
 * fork_workers.c - process mode: a parent's non-blocking listener shared by
 * 3 forked echo workers (vlsb_fork_echo_workers). 30 clients are echoed
 * intact; a worker killed with SIGKILL is seen by the application's own
 * SIGCHLD handler (installed before app init, chained by VLS's) and its VCL
 * worker is cleaned up by the parent's next epoll_wait, another's by
 * vlsb_reap_children (childCleanups in the counters), never in the signal
 * handler itself (nothing is cleaned between the SIGCHLD and that call:
 * the cleanup takes locks the interrupted code may hold); the workers left keep
 * serving, and the last one stops cleanly on SIGTERM.
 */
#include <signal.h>
#include <sys/epoll.h>
#include <sys/wait.h>

#include "vtest.h"

#define N_WORKERS 3
#define N_CLIENTS 30
#define MSG 3000

static volatile sig_atomic_t app_sigchld;

static void app_on_sigchld(int sig) {
  (void)sig;
  app_sigchld = 1; /* never reaps: the children are VLS's to clean up */
}

static uint8_t lep[VLSB_EP_SIZE];

/* n clients at once: all connect, all send, then all read their echo. */
static void echo_clients(int n, unsigned seed) {
  int c[N_CLIENTS];
  CHECK(n <= N_CLIENTS);
  for (int i = 0; i < n; i++) {
    c[i] = vlsb_create(VLSB_PROTO_TCP, 0);
    CHECK(c[i] >= 0);
    CHECK_EQ(vlsb_connect(c[i], lep), 0);
  }
  char out[MSG], in[MSG];
  for (int i = 0; i < n; i++) {
    fill_pattern(out, MSG, seed + (unsigned)i, 0);
    CHECK_EQ(write_all(c[i], out, MSG), 0);
  }
  for (int i = 0; i < n; i++) {
    fill_pattern(out, MSG, seed + (unsigned)i, 0);
    CHECK_EQ(read_all(c[i], in, MSG), 0);
    CHECK(memcmp(in, out, MSG) == 0);
  }
  for (int i = 0; i < n; i++)
    CHECK_EQ(vlsb_close(c[i]), 0);
}

static void wait_sigchld(void) {
  for (int i = 0; i < 5000 && !app_sigchld; i++)
    sleep_ms(1);
  CHECK(app_sigchld);
}

static void forked_workers_serve_and_are_reaped(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = app_on_sigchld;
  sigemptyset(&sa.sa_mask);
  CHECK_EQ(sigaction(SIGCHLD, &sa, 0), 0);

  CHECK_EQ(vlsb_app_init(VLSB_BACKEND_KERNEL, VLSB_MODE_PROCESS, ""), 0);
  int l = make_listener(1, lep);
  int32_t pids[N_WORKERS];
  fflush(stdout);
  fflush(stderr);
  CHECK_EQ(vlsb_fork_echo_workers(l, N_WORKERS, pids), N_WORKERS);
  CHECK_EQ(counter_sum("\"forks\":"), N_WORKERS);
  int ep = vlsb_epoll_create();
  CHECK(ep >= 0);

  echo_clients(N_CLIENTS, 1);
  CHECK(counter_sum("\"accepts\":") >= N_CLIENTS); /* counted by the children */
  CHECK_EQ(counter_sum("\"childCleanups\":"), 0);
  CHECK(!app_sigchld);

  /* a worker dies: the app's handler runs, the parent's epoll_wait cleans */
  CHECK_EQ(kill(pids[0], SIGKILL), 0);
  wait_sigchld();
  /* The whole handler chain has run (this thread is the only one, so the
   * signal interrupted it and returned): the cleanup is only queued. */
  CHECK_EQ(counter_sum("\"childCleanups\":"), 0);
  uint32_t evs[8];
  CHECK(vlsb_epoll_wait(ep, evs, 4, 0) >= 0);
  CHECK_EQ(counter_sum("\"childCleanups\":"), 1);
  CHECK_EQ(vlsb_reap_children(), 0); /* nothing left to clean */
  echo_clients(10, 100);

  /* another dies: vlsb_reap_children cleans it */
  app_sigchld = 0;
  CHECK_EQ(kill(pids[1], SIGKILL), 0);
  wait_sigchld();
  CHECK_EQ(counter_sum("\"childCleanups\":"), 1); /* queued, not done */
  CHECK_EQ(vlsb_reap_children(), 1);
  CHECK_EQ(counter_sum("\"childCleanups\":"), 2);
  echo_clients(5, 200);

  /* the last one stops cleanly on SIGTERM */
  CHECK_EQ(kill(pids[2], SIGTERM), 0);
  int st = 0;
  pid_t r;
  while ((r = waitpid(pids[2], &st, 0)) < 0 && errno == EINTR) {
  }
  CHECK_EQ(r, pids[2]);
  CHECK(WIFEXITED(st));
  CHECK_EQ(WEXITSTATUS(st), 0);
  CHECK_EQ(vlsb_close(ep), 0);
  CHECK_EQ(vlsb_close(l), 0);
  CHECK_EQ(vlsb_app_fini(), 0);
  /* the app's handler is the process's handler again */
  struct sigaction now;
  CHECK_EQ(sigaction(SIGCHLD, 0, &now), 0);
  CHECK(!(now.sa_flags & SA_SIGINFO) && now.sa_handler == app_on_sigchld);
}

int main(void) {
  RUN(forked_workers_serve_and_are_reaped);
  CTEST_END();
}
