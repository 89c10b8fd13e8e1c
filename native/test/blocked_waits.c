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
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>

#include "vtest.h"

#define UNSET (-100000)
static int w_ep, w_h;
static atomic_int w_result;
static uint32_t w_evs[16];

static void *epoll_waiter(void *arg) {
  (void)arg;
  atomic_store(&w_result, vlsb_epoll_wait(w_ep, w_evs, 8, 10000));
  return 0;
}

static void *reader(void *arg) {
  (void)arg;
  char b[16];
  atomic_store(&w_result, vlsb_read(w_h, b, sizeof b));
  return 0;
}

static void *acceptor(void *arg) {
  (void)arg;
  atomic_store(&w_result, vlsb_accept(w_h, 0, 0));
  return 0;
}

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
  pthread_t t;
  spawn_registered(&t, epoll_waiter, 0);
  sleep_ms(20);
  enum { N = 600 };
  static int hs[N];
  for (int i = 0; i < N; i++) {
    hs[i] = vlsb_create(VLSB_PROTO_TCP, 1);
    CHECK(hs[i] >= 0);
  }
  sleep_ms(250); /* the waiter goes round its wait slices meanwhile */
  CHECK_EQ(atomic_load(&w_result), UNSET);
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
  pthread_t t;
  spawn_registered(&t, reader, 0);
  sleep_ms(30);
  CHECK_EQ(atomic_load(&w_result), UNSET);
  CHECK_EQ(vlsb_close(w_h), 0);
  CHECK_EQ(wait_result(3000), -EBADFD);
  pthread_join(t, 0);
  CHECK_EQ(vlsb_close(c), 0);

  /* and a blocked accept on a listener closed under it */
  w_h = l;
  atomic_store(&w_result, UNSET);
  spawn_registered(&t, acceptor, 0);
  sleep_ms(30);
  CHECK_EQ(atomic_load(&w_result), UNSET);
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
