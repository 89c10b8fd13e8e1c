/*
 * blocked_waits.c - one VCL worker shared by threads (single and process
 * modes): a thread blocked in a wait holds no lock, and what other threads
 * do meanwhile neither stalls them nor pulls the ground from under the
 * waiter:
 *   - a thread blocked in epoll_wait while another creates hundreds of
 *     sessions (the worker's session pool grows and moves) and then
 *     connects to the listener in the set: the waiter sees the event;
 *   - a thread blocked in read on a session another thread closes: told
 *     the session is gone (EBADFD) within a wait slice;
 *   - a thread blocked in accept on a listener another thread closes: the
 *     same.
 * "Blocked" is checked, not assumed after a sleep: the waiter's kernel
 * thread is seen asleep in the core's wait syscall (/proc/self/task/TID/
 * syscall), several samples in a row, before the other thread acts.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vtest.h"

#define UNSET (-100000)
static int w_ep, w_h;
static atomic_int w_result;
static uint32_t w_evs[16];
static atomic_int w_tid; /* the waiter's kernel thread id, 0 until known */

static void *epoll_waiter(void *arg) {
  (void)arg;
  atomic_store(&w_tid, (int)syscall(SYS_gettid));
  atomic_store(&w_result, vlsb_epoll_wait(w_ep, w_evs, 8, 10000));
  return 0;
}

static void *reader(void *arg) {
  (void)arg;
  char b[16];
  atomic_store(&w_tid, (int)syscall(SYS_gettid));
  atomic_store(&w_result, vlsb_read(w_h, b, sizeof b));
  return 0;
}

static void *acceptor(void *arg) {
  (void)arg;
  atomic_store(&w_tid, (int)syscall(SYS_gettid));
  atomic_store(&w_result, vlsb_accept(w_h, 0, 0));
  return 0;
}

/* The syscall thread tid sleeps in, or -1 (running, or unreadable). */
static long blocked_syscall(int tid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  long nr = -1;
  if (fscanf(f, "%ld", &nr) != 1) /* "running" does not scan */
    nr = -1;
  fclose(f);
  return nr;
}

static int in_set(long nr, const long *set, int n) {
  for (int i = 0; i < n; i++)
    if (set[i] == nr)
      return 1;
  return 0;
}

/* Waits (at most 5 s) until the waiter is asleep in one of the n syscalls
 * of set, 5 samples 1 ms apart, its result still unset: the call under test
 * has been entered and blocks. A waiter that never got there (returned at
 * once, spins, or waits on a lock) fails here. */
static void expect_blocked_in(const long *set, int n) {
  int seen = 0;
  double end = now_ms() + 5000;
  while (seen < 5 && now_ms() < end) {
    int tid = atomic_load(&w_tid);
    seen = tid && atomic_load(&w_result) == UNSET && in_set(blocked_syscall(tid), set, n) ? seen + 1 : 0;
    sleep_ms(1);
  }
  CHECK_EQ(seen, 5);
  CHECK_EQ(atomic_load(&w_result), UNSET);
}

static const long EPOLL_WAITS[] = {SYS_epoll_wait, SYS_epoll_pwait};
static const long POLLS[] = {SYS_poll, SYS_ppoll};

static int wait_result(int ms) {
  for (int i = 0; i < ms && atomic_load(&w_result) == UNSET; i++)
    sleep_ms(1);
  return atomic_load(&w_result);
}

static void epoll_wait_while_pool_grows(int mode) {
  CHECK_EQ(vlsb_app_init(VLSB_BACKEND_KERNEL, mode, ""), 0);
  uint8_t lep[VLSB_EP_SIZE];
  int l = make_listener(1, lep);
  w_ep = vlsb_epoll_create();
  CHECK(w_ep >= 0);
  CHECK_EQ(vlsb_epoll_ctl(w_ep, EPOLL_CTL_ADD, l, EPOLLIN, 77), 0);
  atomic_store(&w_result, UNSET);
  atomic_store(&w_tid, 0);
  pthread_t t;
  spawn_registered(&t, epoll_waiter, 0);
  expect_blocked_in(EPOLL_WAITS, 2);
  enum { N = 600 };
  static int hs[N];
  for (int i = 0; i < N; i++) {
    hs[i] = vlsb_create(VLSB_PROTO_TCP, 1);
    CHECK(hs[i] >= 0);
  }
  sleep_ms(250); /* the waiter goes round its wait slices meanwhile */
  expect_blocked_in(EPOLL_WAITS, 2); /* still waiting, in the same call */
  int c = vlsb_create(VLSB_PROTO_TCP, 0);
  CHECK_EQ(vlsb_connect(c, lep), 0);
  CHECK_EQ(wait_result(5000), 1);
  pthread_join(t, 0);
  CHECK_EQ(w_evs[1], 77);
  CHECK(w_evs[0] & EPOLLIN);
  for (int i = 0; i < N; i++)
    CHECK_EQ(vlsb_close(hs[i]), 0);
  int s = vlsb_accept(l, 0, 0);
  CHECK(s >= 0);
  CHECK_EQ(vlsb_close(s), 0);
  CHECK_EQ(vlsb_close(c), 0);
  CHECK_EQ(vlsb_close(w_ep), 0);
  CHECK_EQ(vlsb_close(l), 0);
  CHECK_EQ(vlsb_app_fini(), 0);
}

static void close_under_blocked_read(int mode) {
  CHECK_EQ(vlsb_app_init(VLSB_BACKEND_KERNEL, mode, ""), 0);
  uint8_t lep[VLSB_EP_SIZE];
  int l = make_listener(0, lep);
  int c;
  connect_pair(l, lep, &c, &w_h, 0);
  atomic_store(&w_result, UNSET);
  atomic_store(&w_tid, 0);
  pthread_t t;
  spawn_registered(&t, reader, 0);
  expect_blocked_in(POLLS, 2);
  CHECK_EQ(vlsb_close(w_h), 0);
  CHECK_EQ(wait_result(3000), -EBADFD);
  pthread_join(t, 0);
  CHECK_EQ(vlsb_close(c), 0);

  /* and a blocked accept on a listener closed under it */
  w_h = l;
  atomic_store(&w_result, UNSET);
  atomic_store(&w_tid, 0);
  spawn_registered(&t, acceptor, 0);
  expect_blocked_in(POLLS, 2);
  CHECK_EQ(vlsb_close(l), 0);
  CHECK_EQ(wait_result(3000), -EBADFD);
  pthread_join(t, 0);
  CHECK_EQ(vlsb_app_fini(), 0);
}

static void epoll_wait_pool_grows_single(void) { epoll_wait_while_pool_grows(VLSB_MODE_SINGLE); }
static void epoll_wait_pool_grows_process(void) { epoll_wait_while_pool_grows(VLSB_MODE_PROCESS); }
static void close_under_read_single(void) { close_under_blocked_read(VLSB_MODE_SINGLE); }
static void close_under_read_process(void) { close_under_blocked_read(VLSB_MODE_PROCESS); }

int main(void) {
  RUN(epoll_wait_pool_grows_single);
  RUN(epoll_wait_pool_grows_process);
  RUN(close_under_read_single);
  RUN(close_under_read_process);
  CTEST_END();
}
