/*
 * abi_errors.c - every ABI call given something wrong answers a negative
 * errno and nothing crashes: calls before app init (-ENOTCONN), unknown,
 * stale and closed handles (-EBADFD, in every mode and from a second
 * thread), double close, bad arguments (-EINVAL and friends), calls on the
 * wrong kind of session, and calls after app fini.
 */
#include <limits.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "vtest.h"

static const int bad_handles[] = {-1, -77, INT_MIN, INT_MAX, 1 << 20, 5000, 999999, (1 << 30) | 3};
#define N_BAD ((int)(sizeof bad_handles / sizeof bad_handles[0]))

/* Every handle-taking call on handle h must say -EBADFD. */
static void all_calls_ebadfd(int h) {
  char buf[16] = {0};
  uint8_t ep[VLSB_EP_SIZE];
  uint32_t evs[8];
  ep_loopback(ep);
  CHECK_EQ(vlsb_read(h, buf, sizeof buf), -EBADFD);
  CHECK_EQ(vlsb_write(h, buf, sizeof buf), -EBADFD);
  CHECK_EQ(vlsb_bind(h, ep), -EBADFD);
  CHECK_EQ(vlsb_listen(h, 8), -EBADFD);
  CHECK_EQ(vlsb_accept(h, ep, 0), -EBADFD);
  CHECK_EQ(vlsb_connect(h, ep), -EBADFD);
  CHECK_EQ(vlsb_shutdown(h, SHUT_RDWR), -EBADFD);
  CHECK_EQ(vlsb_attr(h, VLSB_ATTR_GET_FLAGS, 0, 0), -EBADFD);
  CHECK_EQ(vlsb_attr(h, VLSB_ATTR_GET_LCL_ADDR, 0, ep), -EBADFD);
  CHECK_EQ(vlsb_epoll_wait(h, evs, 4, 0), -EBADFD);
  CHECK_EQ(vlsb_close(h), -EBADFD);
}

static void before_init(void) {
  char buf[16];
  uint8_t ep[VLSB_EP_SIZE];
  uint32_t evs[8];
  ep_loopback(ep);
  CHECK_EQ(vlsb_app_backend(), -ENOTCONN);
  CHECK_EQ(vlsb_app_mode(), -ENOTCONN);
  CHECK_EQ(vlsb_create(VLSB_PROTO_TCP, 0), -ENOTCONN);
  CHECK_EQ(vlsb_epoll_create(), -ENOTCONN);
  CHECK_EQ(vlsb_read(0, buf, sizeof buf), -ENOTCONN);
  CHECK_EQ(vlsb_write(0, buf, sizeof buf), -ENOTCONN);
  CHECK_EQ(vlsb_bind(0, ep), -ENOTCONN);
  CHECK_EQ(vlsb_listen(0, 1), -ENOTCONN);
  CHECK_EQ(vlsb_accept(0, 0, 0), -ENOTCONN);
  CHECK_EQ(vlsb_connect(0, ep), -ENOTCONN);
  CHECK_EQ(vlsb_shutdown(0, SHUT_RDWR), -ENOTCONN);
  CHECK_EQ(vlsb_close(0), -ENOTCONN);
  CHECK_EQ(vlsb_attr(0, VLSB_ATTR_GET_FLAGS, 0, 0), -ENOTCONN);
  CHECK_EQ(vlsb_epoll_ctl(0, EPOLL_CTL_ADD, 1, EPOLLIN, 0), -ENOTCONN);
  CHECK_EQ(vlsb_epoll_wait(0, evs, 4, 0), -ENOTCONN);
  CHECK_EQ(vlsb_worker_register(), -ENOTCONN);
  CHECK_EQ(vlsb_worker_unregister(), -ENOTCONN);
  CHECK_EQ(vlsb_worker_index(), -ENOTCONN);
  int32_t pids[2];
  CHECK_EQ(vlsb_fork_echo_workers(0, 2, pids), -EINVAL);
  CHECK_EQ(vlsb_reap_children(), 0);
  CHECK_EQ(vlsb_app_fini(), 0); /* idempotent, also before init */
  char js[4096];
  CHECK(vlsb_counters_json(js, sizeof js) > 0);
}

static void app_init_args(void) {
  CHECK_EQ(vlsb_app_init(7, VLSB_MODE_SINGLE, ""), -EINVAL);
  CHECK_EQ(vlsb_app_init(-1, VLSB_MODE_SINGLE, ""), -EINVAL);
  CHECK_EQ(vlsb_app_init(VLSB_BACKEND_KERNEL, 3, ""), -EINVAL);
  CHECK_EQ(vlsb_app_init(VLSB_BACKEND_KERNEL, -1, ""), -EINVAL);
  CHECK_EQ(vlsb_app_backend(), -ENOTCONN); /* a refused init left nothing */
  CHECK_EQ(vlsb_app_init(VLSB_BACKEND_KERNEL, VLSB_MODE_SINGLE, 0), 0); /* NULL options */
  CHECK_EQ(vlsb_app_init(VLSB_BACKEND_KERNEL, VLSB_MODE_SINGLE, "max_sessions=10"), 0); /* same: no-op */
  CHECK_EQ(vlsb_app_init(VLSB_BACKEND_KERNEL, VLSB_MODE_THREAD, ""), -EALREADY);
  CHECK_EQ(vlsb_app_init(VLSB_BACKEND_VPP, VLSB_MODE_SINGLE, ""), -EALREADY);
  CHECK_EQ(vlsb_app_backend(), VLSB_BACKEND_KERNEL);
  CHECK_EQ(vlsb_app_mode(), VLSB_MODE_SINGLE);
  CHECK_EQ(vlsb_app_fini(), 0);
  CHECK_EQ(vlsb_app_fini(), 0);
  CHECK_EQ(vlsb_app_mode(), -ENOTCONN);
}

static void misc_args(void) {
  char js[64];
  double lat[4];
  CHECK_EQ(vlsb_counters_json(0, 100), -EINVAL);
  CHECK_EQ(vlsb_counters_json(js, 0), -EINVAL);
  CHECK_EQ(vlsb_counters_json(js, -5), -EINVAL);
  CHECK_EQ(vlsb_counters_json(js, sizeof js), -ENOSPC);
  CHECK_EQ(vlsb_rpc_latencies(0, 4), -EINVAL);
  CHECK_EQ(vlsb_rpc_latencies(lat, -1), -EINVAL);
  CHECK_EQ(vlsb_rpc_latencies(lat, 0), 0);
  CHECK(vlsb_strerror(-EBADFD) && vlsb_strerror(-EBADFD)[0]);
  CHECK(vlsb_strerror(EBADFD) == vlsb_strerror(-EBADFD));
  CHECK(vlsb_strerror(0) && vlsb_strerror(123456) && vlsb_strerror(INT_MIN + 1));
}

/* The checks that hold in every mode, from the thread that initialised. */
static void handle_errors_in_mode(int mode) {
  CHECK_EQ(vlsb_app_init(VLSB_BACKEND_KERNEL, mode, ""), 0);
  char buf[64] = {0};
  uint8_t ep[VLSB_EP_SIZE], lep[VLSB_EP_SIZE];
  uint32_t evs[8];
  ep_loopback(ep);

  /* never-issued handles, before and after some sessions exist */
  CHECK_EQ(vlsb_close(0), -EBADFD);
  for (int i = 0; i < N_BAD; i++)
    all_calls_ebadfd(bad_handles[i]);

  /* closed and stale handles; double close */
  int h = vlsb_create(VLSB_PROTO_TCP, 0);
  CHECK(h >= 0);
  CHECK_EQ(vlsb_close(h), 0);
  CHECK_EQ(vlsb_close(h), -EBADFD);
  all_calls_ebadfd(h);
  int h2 = vlsb_create(VLSB_PROTO_TCP, 1); /* may reuse the slot: a new generation */
  CHECK(h2 >= 0 && h2 != h);
  all_calls_ebadfd(h);
  CHECK_EQ(vlsb_attr(h2, VLSB_ATTR_GET_FLAGS, 0, 0), O_NONBLOCK); /* the new one is untouched */
  CHECK_EQ(vlsb_close(h2), 0);
  int ep1 = vlsb_epoll_create();
  CHECK(ep1 >= 0);
  CHECK_EQ(vlsb_close(ep1), 0);
  CHECK_EQ(vlsb_close(ep1), -EBADFD);
  CHECK_EQ(vlsb_epoll_wait(ep1, evs, 4, 0), -EBADFD);
  CHECK_EQ(vlsb_epoll_ctl(ep1, EPOLL_CTL_ADD, 0, EPOLLIN, 0), -EBADFD);

  /* bad arguments */
  CHECK_EQ(vlsb_create(7, 0), -EPROTONOSUPPORT);
  CHECK_EQ(vlsb_create(-1, 0), -EPROTONOSUPPORT);
  int s = vlsb_create(VLSB_PROTO_TCP, 0);
  CHECK(s >= 0);
  CHECK_EQ(vlsb_bind(s, 0), -EINVAL);
  CHECK_EQ(vlsb_connect(s, 0), -EINVAL);
  uint8_t bad_family[VLSB_EP_SIZE] = {5};
  CHECK_EQ(vlsb_bind(s, bad_family), -EAFNOSUPPORT);
  CHECK_EQ(vlsb_connect(s, bad_family), -EAFNOSUPPORT);
  CHECK_EQ(vlsb_attr(s, 12345, 0, 0), -EINVAL);
  CHECK_EQ(vlsb_attr(s, VLSB_ATTR_GET_LCL_ADDR, 0, 0), -EINVAL);
  CHECK_EQ(vlsb_attr(s, VLSB_ATTR_GET_LCL_ADDR, 0, lep), -ENOTCONN); /* no socket yet */
  CHECK_EQ(vlsb_listen(s, 8), -EINVAL); /* not bound */
  CHECK_EQ(vlsb_accept(s, 0, 0), -EINVAL); /* not listening */
  CHECK_EQ(vlsb_read(s, buf, sizeof buf), -ENOTCONN);
  CHECK_EQ(vlsb_write(s, buf, sizeof buf), -ENOTCONN);
  int e = vlsb_epoll_create();
  CHECK(e >= 0);
  CHECK_EQ(vlsb_epoll_wait(e, 0, 4, 0), -EINVAL);
  CHECK_EQ(vlsb_epoll_wait(e, evs, 0, 0), -EINVAL);
  CHECK_EQ(vlsb_epoll_wait(e, evs, -3, 0), -EINVAL);
  CHECK_EQ(vlsb_epoll_ctl(e, EPOLL_CTL_ADD, s, EPOLLIN, 1), -EINVAL); /* nothing to wait on yet */
  CHECK_EQ(vlsb_epoll_ctl(e, EPOLL_CTL_ADD, e, EPOLLIN, 1), -EBADFD); /* itself */
  CHECK_EQ(vlsb_epoll_ctl(s, EPOLL_CTL_ADD, e, EPOLLIN, 1), -EBADFD); /* not an epoll set */
  CHECK_EQ(vlsb_read(e, buf, sizeof buf), -EBADFD);                 /* an epoll set */
  CHECK_EQ(vlsb_write(e, buf, sizeof buf), -EBADFD);
  CHECK_EQ(vlsb_epoll_wait(s, evs, 4, 0), -EBADFD); /* not an epoll set */
  CHECK_EQ(vlsb_fork_echo_workers(s, 1, 0), -EINVAL);
  if (mode != VLSB_MODE_PROCESS) {
    int32_t pids[1];
    CHECK_EQ(vlsb_fork_echo_workers(s, 1, pids), -EINVAL); /* only in process mode */
  }

  /* a listener and a connected pair: wrong-state calls */
  int l = make_listener(0, lep);
  CHECK_EQ(vlsb_listen(l, 8), 0); /* again: no-op */
  CHECK_EQ(vlsb_connect(l, lep), -EINVAL);
  CHECK_EQ(vlsb_read(l, buf, sizeof buf), -ENOTCONN);
  CHECK_EQ(vlsb_bind(l, ep), -EINVAL);
  CHECK_EQ(vlsb_epoll_ctl(e, 99, l, EPOLLIN, 1), -EINVAL);
  CHECK_EQ(vlsb_epoll_ctl(e, EPOLL_CTL_MOD, l, EPOLLIN, 1), -ENOENT);
  CHECK_EQ(vlsb_epoll_ctl(e, EPOLL_CTL_DEL, l, 0, 0), -ENOENT);
  CHECK_EQ(vlsb_epoll_ctl(e, EPOLL_CTL_ADD, l, EPOLLIN, 1), 0);
  CHECK_EQ(vlsb_epoll_ctl(e, EPOLL_CTL_ADD, l, EPOLLIN, 1), -EEXIST);
  int c, a;
  connect_pair(l, lep, &c, &a, 0);
  CHECK_EQ(vlsb_connect(c, lep), -EISCONN);
  CHECK_EQ(vlsb_read(c, buf, -1), -EINVAL);
  CHECK_EQ(vlsb_write(c, buf, -1), -EINVAL);
  CHECK_EQ(vlsb_read(c, 0, 10), -EINVAL);
  CHECK_EQ(vlsb_write(c, 0, 10), -EINVAL);
  CHECK_EQ(vlsb_accept(c, 0, 0), -EINVAL);
  CHECK_EQ(vlsb_shutdown(c, 7), -EINVAL);
  /* the errors changed nothing: the pair still carries data */
  CHECK_EQ(write_all(c, "ping", 4), 0);
  CHECK_EQ(read_all(a, buf, 4), 0);
  CHECK(memcmp(buf, "ping", 4) == 0);
  CHECK_EQ(vlsb_close(a), 0);
  CHECK_EQ(vlsb_close(c), 0);
  CHECK_EQ(vlsb_close(c), -EBADFD);
  all_calls_ebadfd(c);
  CHECK_EQ(vlsb_close(l), 0);
  CHECK_EQ(vlsb_close(e), 0);
  CHECK_EQ(vlsb_close(s), 0);

  /* unregister / register of the calling thread */
  CHECK(vlsb_worker_index() >= 0);
  CHECK_EQ(vlsb_worker_unregister(), 0);
  CHECK_EQ(vlsb_worker_index(), -ENOENT);
  CHECK_EQ(vlsb_worker_unregister(), -ENOENT);
  CHECK(vlsb_worker_register() >= 0);
  CHECK(vlsb_worker_index() >= 0);
  h = vlsb_create(VLSB_PROTO_UDP, 0);
  CHECK(h >= 0);
  CHECK_EQ(vlsb_close(h), 0);

  CHECK_EQ(vlsb_app_fini(), 0);
  /* after fini: no app again */
  CHECK_EQ(vlsb_create(VLSB_PROTO_TCP, 0), -ENOTCONN);
  CHECK_EQ(vlsb_close(h), -ENOTCONN);
  CHECK_EQ(vlsb_epoll_wait(0, evs, 4, 0), -ENOTCONN);
}

/* A second thread handing bad, stale and closed handles to every call. */
static int closed_handle;
static pthread_barrier_t bad_barrier;

static void *bad_handles_thread(void *arg) {
  (void)arg;
  CHECK(vlsb_worker_register() >= 0);
  for (int i = 0; i < N_BAD; i++)
    all_calls_ebadfd(bad_handles[i]);
  all_calls_ebadfd(closed_handle);
  /* Only now may sessions be created: a new one could take the closed
   * handle's slot with the generation a "bad" handle names. */
  pthread_barrier_wait(&bad_barrier);
  int h = vlsb_create(VLSB_PROTO_TCP, 0);
  CHECK(h >= 0);
  CHECK_EQ(vlsb_close(h), 0);
  CHECK_EQ(vlsb_close(h), -EBADFD);
  return 0;
}

static void bad_handles_from_threads_in_mode(int mode) {
  CHECK_EQ(vlsb_app_init(VLSB_BACKEND_KERNEL, mode, ""), 0);
  closed_handle = vlsb_create(VLSB_PROTO_TCP, 0);
  CHECK(closed_handle >= 0);
  CHECK_EQ(vlsb_close(closed_handle), 0);
  pthread_t t[2];
  CHECK_EQ(pthread_barrier_init(&bad_barrier, 0, 2), 0);
  for (int i = 0; i < 2; i++)
    spawn_registered(&t[i], bad_handles_thread, 0);
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], 0);
  pthread_barrier_destroy(&bad_barrier);
  CHECK_EQ(vlsb_app_fini(), 0);
}

static void handles_single(void) { handle_errors_in_mode(VLSB_MODE_SINGLE); }
static void handles_thread(void) { handle_errors_in_mode(VLSB_MODE_THREAD); }
static void handles_process(void) { handle_errors_in_mode(VLSB_MODE_PROCESS); }
static void threads_single(void) { bad_handles_from_threads_in_mode(VLSB_MODE_SINGLE); }
static void threads_thread(void) { bad_handles_from_threads_in_mode(VLSB_MODE_THREAD); }
static void threads_process(void) { bad_handles_from_threads_in_mode(VLSB_MODE_PROCESS); }

int main(void) {
  RUN(before_init);
  RUN(app_init_args);
  RUN(misc_args);
  RUN(handles_single);
  RUN(handles_thread);
  RUN(handles_process);
  RUN(threads_single);
  RUN(threads_thread);
  RUN(threads_process);
  CTEST_END();
}
