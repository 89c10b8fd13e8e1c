/*
 * epoll_ctl_errors.c - every error path of vlsb_epoll_ctl answers EBADFD
 * and leaves no lock held (spec section 6), in single mode and thread mode
 * with two threads (so locking is on):
 *   - bad, closed or non-epoll epoll handle;
 *   - bad or closed session handle, or the set itself, with a good set;
 *   - thread mode: a set that cannot migrate (not empty), and a session of
 *     another worker added to one's own set.
 * After each, a second thread's calls that need the same locks (pool write
 * lock, the set's session lock, the single-mode spool lock) finish at once.
 * Then two threads naming each other's sets in epoll_ctl (opposite lock
 * orders) many times over: no deadlock.
 */
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/epoll.h>

#include "vtest.h"

static int mode;
static int m_ep, m_other_ep, m_c, m_s, m_l, m_closed;
static uint8_t m_lep[VLSB_EP_SIZE];
static atomic_int probe_req, probe_done, helper_stop;

/* The helper's probe: calls that take the locks an error path could have
 * leaked. In single mode it uses the main thread's set and sessions (one
 * worker); in thread mode its own, plus the main thread's set (which
 * cannot migrate: not empty) and the main thread's session. */
static void probe(int own_ep, int own_l) {
  int h = vlsb_create(VLSB_PROTO_TCP, 1); /* pool write lock (+ spool write lock) */
  CHECK(h >= 0);
  CHECK_EQ(vlsb_close(h), 0);
  if (mode != VLSB_MODE_THREAD) {
    CHECK_EQ(vlsb_epoll_ctl(m_ep, EPOLL_CTL_ADD, m_s, EPOLLIN, 2), 0); /* the set's lock */
    CHECK_EQ(vlsb_epoll_ctl(m_ep, EPOLL_CTL_DEL, m_s, 0, 0), 0);
    CHECK_EQ(vlsb_attr(m_c, VLSB_ATTR_GET_FLAGS, 0, 0), 0);
  } else {
    CHECK_EQ(vlsb_epoll_ctl(own_ep, EPOLL_CTL_ADD, own_l, EPOLLIN, 2), 0);
    CHECK_EQ(vlsb_epoll_ctl(own_ep, EPOLL_CTL_DEL, own_l, 0, 0), 0);
    /* the main thread's set: its lock is free, it does not migrate */
    CHECK_EQ(vlsb_epoll_ctl(m_ep, EPOLL_CTL_ADD, own_l, EPOLLIN, 2), -EBADFD);
    /* the main thread's connected session cannot join our set */
    CHECK_EQ(vlsb_epoll_ctl(own_ep, EPOLL_CTL_ADD, m_s, EPOLLIN, 2), -EBADFD);
  }
}

static void *helper(void *arg) {
  (void)arg;
  int own_ep = vlsb_epoll_create();
  uint8_t ep[VLSB_EP_SIZE];
  int own_l = make_listener(1, ep);
  int done = 0;
  while (!atomic_load(&helper_stop)) {
    if (atomic_load(&probe_req) == done) {
      sleep_ms(1);
      continue;
    }
    probe(own_ep, own_l);
    atomic_store(&probe_done, ++done);
  }
  CHECK_EQ(vlsb_close(own_l), 0);
  CHECK_EQ(vlsb_close(own_ep), 0);
  return 0;
}

/* Asks the helper for a probe and waits for it, at most 3 s. The main
 * thread polls meanwhile (thread mode: it serves the helper's RPCs). */
static void helper_proceeds(int line) {
  int want = atomic_fetch_add(&probe_req, 1) + 1;
  uint32_t evs[8];
  double deadline = now_ms() + 3000;
  while (atomic_load(&probe_done) < want && now_ms() < deadline) {
    if (mode == VLSB_MODE_THREAD)
      CHECK(vlsb_epoll_wait(m_other_ep, evs, 4, 1) >= 0);
    else
      sleep_ms(1);
  }
  if (atomic_load(&probe_done) < want) {
    fprintf(stderr, "helper blocked after the error path at line %d: a lock was left held\n", line);
    CHECK(atomic_load(&probe_done) >= want);
  }
}
#define HELPER_PROCEEDS() helper_proceeds(__LINE__)

static void errors_release_locks(int m) {
  mode = m;
  atomic_store(&probe_req, 0);
  atomic_store(&probe_done, 0);
  atomic_store(&helper_stop, 0);
  CHECK_EQ(vlsb_app_init(VLSB_BACKEND_KERNEL, mode, ""), 0);
  m_ep = vlsb_epoll_create();
  m_other_ep = vlsb_epoll_create();
  CHECK(m_ep >= 0 && m_other_ep >= 0);
  m_l = make_listener(1, m_lep);
  connect_pair(m_l, m_lep, &m_c, &m_s, O_NONBLOCK);
  CHECK_EQ(vlsb_epoll_ctl(m_ep, EPOLL_CTL_ADD, m_c, EPOLLIN, 1), 0); /* not empty */
  m_closed = vlsb_create(VLSB_PROTO_TCP, 0);
  CHECK_EQ(vlsb_close(m_closed), 0);
  int closed_ep = vlsb_epoll_create();
  CHECK_EQ(vlsb_close(closed_ep), 0);

  pthread_t t;
  spawn_registered(&t, helper, 0);
  HELPER_PROCEEDS();

  /* bad epoll handle */
  const int bad_eps[] = {-1, INT_MAX, 777777, closed_ep, m_closed};
  for (size_t i = 0; i < sizeof bad_eps / sizeof bad_eps[0]; i++) {
    CHECK_EQ(vlsb_epoll_ctl(bad_eps[i], EPOLL_CTL_ADD, m_s, EPOLLIN, 1), -EBADFD);
    HELPER_PROCEEDS();
  }
  /* a session that is not an epoll set, used as one */
  CHECK_EQ(vlsb_epoll_ctl(m_s, EPOLL_CTL_ADD, m_c, EPOLLIN, 1), -EBADFD);
  HELPER_PROCEEDS();

  /* bad session handle with a good set */
  const int bad_hs[] = {-5, INT_MIN, 654321, m_closed, closed_ep, m_ep};
  for (size_t i = 0; i < sizeof bad_hs / sizeof bad_hs[0]; i++) {
    for (int op = EPOLL_CTL_ADD; op <= EPOLL_CTL_MOD; op++)
      CHECK_EQ(vlsb_epoll_ctl(m_ep, op, bad_hs[i], EPOLLIN, 1), -EBADFD);
    HELPER_PROCEEDS();
  }
  /* another set as the session */
  CHECK_EQ(vlsb_epoll_ctl(m_ep, EPOLL_CTL_ADD, m_other_ep, EPOLLIN, 1), -EBADFD);
  HELPER_PROCEEDS();

  /* the set and the pair still work for their owner */
  CHECK_EQ(vlsb_epoll_ctl(m_ep, EPOLL_CTL_MOD, m_c, EPOLLIN, 3), 0);
  CHECK_EQ(write_all(m_s, "hi", 2), 0);
  uint32_t evs[8];
  int n = 0;
  for (int i = 0; i < 1000 && n == 0; i++)
    n = vlsb_epoll_wait(m_ep, evs, 4, 5);
  CHECK_EQ(n, 1);
  CHECK_EQ(evs[1], 3);
  char b[2];
  CHECK_EQ(read_all(m_c, b, 2), 0);

  atomic_store(&helper_stop, 1);
  pthread_join(t, 0);
  CHECK_EQ(vlsb_close(m_c), 0);
  CHECK_EQ(vlsb_close(m_s), 0);
  CHECK_EQ(vlsb_close(m_l), 0);
  CHECK_EQ(vlsb_close(m_ep), 0);
  CHECK_EQ(vlsb_close(m_other_ep), 0);
  CHECK_EQ(vlsb_app_fini(), 0);
}

static void errors_release_locks_single(void) { errors_release_locks(VLSB_MODE_SINGLE); }
static void errors_release_locks_thread(void) { errors_release_locks(VLSB_MODE_THREAD); }

/* ---- two threads naming each other's sets (one VCL worker) ---- */
#define CROSS_ITERS 20000
static int x_ep[2], x_sess[2];

static void *cross_ctl(void *arg) {
  int me = (int)(intptr_t)arg;
  for (int i = 0; i < CROSS_ITERS; i++) {
    /* set A with set B as the "session", and the other way round in the
     * other thread: both session locks, in opposite orders */
    CHECK_EQ(vlsb_epoll_ctl(x_ep[me], EPOLL_CTL_ADD, x_ep[1 - me], EPOLLIN, 0), -EBADFD);
    CHECK_EQ(vlsb_epoll_ctl(x_ep[me], EPOLL_CTL_ADD, x_sess[1 - me], EPOLLIN, 0), 0);
    CHECK_EQ(vlsb_epoll_ctl(x_ep[me], EPOLL_CTL_DEL, x_sess[1 - me], 0, 0), 0);
    if ((i & 1023) == 0)
      sched_yield();
  }
  return 0;
}

static void sets_named_crosswise(int m) {
  CHECK_EQ(vlsb_app_init(VLSB_BACKEND_KERNEL, m, ""), 0);
  uint8_t ep[VLSB_EP_SIZE];
  for (int i = 0; i < 2; i++) {
    x_ep[i] = vlsb_epoll_create();
    CHECK(x_ep[i] >= 0);
    x_sess[i] = make_listener(1, ep);
  }
  pthread_t t[2];
  for (intptr_t i = 0; i < 2; i++)
    spawn_registered(&t[i], cross_ctl, (void *)i);
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], 0);
  CHECK(lock_acquired("session") > 0);
  for (int i = 0; i < 2; i++) {
    CHECK_EQ(vlsb_close(x_ep[i]), 0);
    CHECK_EQ(vlsb_close(x_sess[i]), 0);
  }
  CHECK_EQ(vlsb_app_fini(), 0);
}

static void sets_named_crosswise_single(void) { sets_named_crosswise(VLSB_MODE_SINGLE); }
static void sets_named_crosswise_process(void) { sets_named_crosswise(VLSB_MODE_PROCESS); }

int main(void) {
  RUN(errors_release_locks_single);
  RUN(errors_release_locks_thread);
  RUN(sets_named_crosswise_single);
  RUN(sets_named_crosswise_process);
  CTEST_END();
}
