/*
 * thread_migration.c - thread mode (one VCL worker per thread): what moves
 * between threads by the clone-and-share RPC and what does not.
 *   - a CLOSED session made by a thread that polls is connected and used by
 *     another thread: data intact; the maker reading it afterwards finds
 *     its own, never connected clone (ENOTCONN): migration is a clone;
 *   - an empty epoll set made by one thread is used by another; a non-empty
 *     one is refused (EBADFD) and stays usable by its owner;
 *   - a connected session touched from another worker: EBADFD, no fd
 *     leaked, and its owner keeps using it;
 *   - two threads cloning each other's sessions at the same moment, 1000
 *     rounds: no deadlock (each serves the other's RPC while it waits);
 *   - a clone RPC to a worker that never polls times out (EBADFD after
 *     rpc_timeout_ms), the owner's session is intact, and the late request
 *     is not answered into a later thread that reuses the worker index.
 */
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/epoll.h>

#include "vtest.h"

static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  CHECK(d != 0);
  int n = 0;
  while (readdir(d))
    n++;
  closedir(d);
  return n;
}

/* The calling thread polls its own epoll set (so it serves RPCs) until
 * *flag reaches want. */
static void poll_until(int ep, atomic_int *flag, int want) {
  uint32_t evs[16];
  while (atomic_load(flag) < want) {
    int n = vlsb_epoll_wait(ep, evs, 8, 5);
    CHECK(n >= 0);
  }
}

static void wait_for(atomic_int *flag, int want) {
  while (atomic_load(flag) < want)
    sleep_ms(1);
}

/* ---- a CLOSED session connected from another thread ---- */
static int a_h, a_main_wrk;
static atomic_int a_phase;

static void *a_user(void *arg) {
  (void)arg;
  int me = vlsb_worker_register();
  CHECK(me >= 0 && me != a_main_wrk);
  uint8_t lep[VLSB_EP_SIZE];
  int l = make_listener(0, lep);
  CHECK_EQ(vlsb_connect(a_h, lep), 0); /* migrates a_h: the maker serves the RPC */
  int s = accept_one(l, 0);
  CHECK(s >= 0);
  char out[16384], in[16384];
  for (unsigned i = 0; i < 8; i++) {
    fill_pattern(out, sizeof out, 7, i * sizeof out);
    CHECK_EQ(write_all(a_h, out, sizeof out), 0);
    CHECK_EQ(read_all(s, in, sizeof in), 0);
    CHECK(memcmp(in, out, sizeof out) == 0);
    fill_pattern(out, sizeof out, 8, i * sizeof out);
    CHECK_EQ(write_all(s, out, sizeof out), 0);
    CHECK_EQ(read_all(a_h, in, sizeof in), 0);
    CHECK(memcmp(in, out, sizeof out) == 0);
  }
  atomic_store(&a_phase, 1);
  wait_for(&a_phase, 2); /* the maker reads its own clone */
  /* back to our clone, still connected, without another RPC */
  CHECK_EQ(write_all(a_h, "again", 5), 0);
  CHECK_EQ(read_all(s, in, 5), 0);
  CHECK(memcmp(in, "again", 5) == 0);
  CHECK_EQ(vlsb_close(s), 0);
  CHECK_EQ(vlsb_close(l), 0);
  CHECK_EQ(vlsb_close(a_h), 0); /* sends the maker a cleanup for its clone */
  atomic_store(&a_phase, 3);
  return 0;
}

static void closed_session_used_by_another_thread(void) {
  CHECK_EQ(vlsb_app_init(VLSB_BACKEND_KERNEL, VLSB_MODE_THREAD, ""), 0);
  a_main_wrk = vlsb_worker_index();
  int ep = vlsb_epoll_create();
  a_h = vlsb_create(VLSB_PROTO_TCP, 0);
  CHECK(ep >= 0 && a_h >= 0);
  pthread_t t;
  spawn_registered(&t, a_user, 0);
  poll_until(ep, &a_phase, 1);
  char b[8];
  CHECK_EQ(vlsb_read(a_h, b, sizeof b), -ENOTCONN); /* our clone never connected */
  atomic_store(&a_phase, 2);
  poll_until(ep, &a_phase, 3); /* serves the cleanup of our clone */
  pthread_join(t, 0);
  uint32_t evs[8];
  CHECK(vlsb_epoll_wait(ep, evs, 4, 0) >= 0);
  CHECK_EQ(vlsb_read(a_h, b, sizeof b), -EBADFD); /* closed by its user */
  CHECK(counter_sum("\"migrationsOk\":") >= 1);
  CHECK(counter_sum("\"rpcsServed\":") >= 1);
  CHECK(lock_acquired("worker_rpc") >= 1);
  double lat[16];
  CHECK(vlsb_rpc_latencies(lat, 16) >= 1);
  CHECK(lat[0] > 0);
  CHECK_EQ(vlsb_close(ep), 0);
  CHECK_EQ(vlsb_app_fini(), 0);
}

/* ---- epoll sets: empty ones migrate, non-empty ones do not ---- */
static int b_empty, b_full;
static atomic_int b_done;

static void *b_user(void *arg) {
  (void)arg;
  uint8_t lep[VLSB_EP_SIZE];
  int l = make_listener(1, lep);
  CHECK_EQ(vlsb_epoll_ctl(b_full, EPOLL_CTL_ADD, l, EPOLLIN, 1), -EBADFD); /* not empty */
  CHECK_EQ(vlsb_epoll_ctl(b_empty, EPOLL_CTL_ADD, l, EPOLLIN, 42), 0);    /* migrates */
  int c = vlsb_create(VLSB_PROTO_TCP, 0);
  CHECK_EQ(vlsb_connect(c, lep), 0);
  uint32_t evs[8];
  CHECK_EQ(vlsb_epoll_wait(b_empty, evs, 4, 5000), 1);
  CHECK(evs[0] & EPOLLIN);
  CHECK_EQ(evs[1], 42);
  int s = vlsb_accept(l, 0, O_NONBLOCK);
  CHECK(s >= 0);
  CHECK_EQ(vlsb_close(s), 0);
  CHECK_EQ(vlsb_close(c), 0);
  CHECK_EQ(vlsb_close(l), 0);
  CHECK_EQ(vlsb_close(b_empty), 0);
  atomic_store(&b_done, 1);
  return 0;
}

static void empty_epoll_set_migrates(void) {
  CHECK_EQ(vlsb_app_init(VLSB_BACKEND_KERNEL, VLSB_MODE_THREAD, ""), 0);
  uint8_t lep[VLSB_EP_SIZE];
  int ml = make_listener(1, lep);
  int ep = vlsb_epoll_create();
  b_empty = vlsb_epoll_create();
  b_full = vlsb_epoll_create();
  CHECK(ep >= 0 && b_empty >= 0 && b_full >= 0);
  CHECK_EQ(vlsb_epoll_ctl(b_full, EPOLL_CTL_ADD, ml, EPOLLIN, 9), 0);
  pthread_t t;
  spawn_registered(&t, b_user, 0);
  poll_until(ep, &b_done, 1);
  pthread_join(t, 0);
  CHECK(counter_sum("\"migrationsOk\":") >= 1);
  CHECK(counter_sum("\"migrationsFailed\":") >= 1);
  /* the refused set is still ours and works */
  int c = vlsb_create(VLSB_PROTO_TCP, 0);
  CHECK_EQ(vlsb_connect(c, lep), 0);
  uint32_t evs[8];
  CHECK_EQ(vlsb_epoll_wait(b_full, evs, 4, 5000), 1);
  CHECK_EQ(evs[1], 9);
  int s = vlsb_accept(ml, 0, 0);
  CHECK(s >= 0);
  CHECK_EQ(vlsb_close(s), 0);
  CHECK_EQ(vlsb_close(c), 0);
  CHECK_EQ(vlsb_close(b_full), 0);
  CHECK_EQ(vlsb_close(ep), 0);
  CHECK_EQ(vlsb_close(ml), 0);
  CHECK_EQ(vlsb_app_fini(), 0);
}

/* ---- a connected session stays with its owner ---- */
static int c_client, c_server;
static atomic_int c_phase;

static void *c_owner(void *arg) {
  (void)arg;
  uint8_t lep[VLSB_EP_SIZE];
  int l = make_listener(0, lep);
  connect_pair(l, lep, &c_client, &c_server, 0);
  int ep = vlsb_epoll_create();
  atomic_store(&c_phase, 1);
  poll_until(ep, &c_phase, 2); /* serves the other thread's clone RPCs */
  char in[5];
  CHECK_EQ(write_all(c_client, "owner", 5), 0);
  CHECK_EQ(read_all(c_server, in, 5), 0);
  CHECK(memcmp(in, "owner", 5) == 0);
  CHECK_EQ(write_all(c_server, "back!", 5), 0);
  CHECK_EQ(read_all(c_client, in, 5), 0);
  CHECK(memcmp(in, "back!", 5) == 0);
  CHECK_EQ(vlsb_close(c_client), 0);
  CHECK_EQ(vlsb_close(c_server), 0);
  CHECK_EQ(vlsb_close(l), 0);
  CHECK_EQ(vlsb_close(ep), 0);
  return 0;
}

static void connected_session_stays_with_owner(void) {
  CHECK_EQ(vlsb_app_init(VLSB_BACKEND_KERNEL, VLSB_MODE_THREAD, ""), 0);
  CHECK(vlsb_worker_register() >= 0);
  pthread_t t;
  spawn_registered(&t, c_owner, 0);
  wait_for(&c_phase, 1);
  int fds = count_fds();
  char b[8] = "x";
  uint8_t ep[VLSB_EP_SIZE];
  ep_loopback(ep);
  CHECK_EQ(vlsb_write(c_client, b, 1), -EBADFD);
  CHECK_EQ(vlsb_read(c_client, b, sizeof b), -EBADFD);
  CHECK_EQ(vlsb_attr(c_client, VLSB_ATTR_GET_FLAGS, 0, 0), -EBADFD);
  CHECK_EQ(vlsb_shutdown(c_client, 1), -EBADFD);
  CHECK_EQ(vlsb_bind(c_client, ep), -EBADFD);
  CHECK_EQ(vlsb_close(c_client), -EBADFD); /* not ours to close: stays open */
  CHECK_EQ(vlsb_close(c_server), -EBADFD);
  int myep = vlsb_epoll_create();
  CHECK_EQ(vlsb_epoll_ctl(myep, EPOLL_CTL_ADD, c_client, EPOLLIN, 1), -EBADFD);
  CHECK_EQ(vlsb_close(myep), 0);
  CHECK_EQ(count_fds(), fds); /* refused clones closed their dup'ed fds */
  CHECK(counter_sum("\"migrationsFailed\":") >= 6);
  atomic_store(&c_phase, 2);
  pthread_join(t, 0);
  CHECK_EQ(vlsb_app_fini(), 0);
}

/* ---- two threads cloning each other's sessions at once ---- */
#define CROSS_ROUNDS 1000
static atomic_int cross_h[2], cross_ready[2], cross_done;

/* Waits for *flag >= want while serving our mq: spins briefly, then
 * blocks in epoll_wait slices (an RPC wakes it at once), so a loaded
 * machine is not made to schedule two spinning threads. */
static void serve_until(int ep, atomic_int *flag, int want) {
  uint32_t evs[8];
  for (int spins = 0; atomic_load(flag) < want; spins++) {
    CHECK(vlsb_epoll_wait(ep, evs, 8, spins < 50 ? 0 : 1) >= 0);
    if (spins < 50)
      sched_yield();
  }
}

static void *crosser(void *arg) {
  int me = (int)(intptr_t)arg;
  int ep = vlsb_epoll_create();
  CHECK(ep >= 0);
  for (int round = 0; round < CROSS_ROUNDS; round++) {
    int h = vlsb_create(VLSB_PROTO_TCP, 1);
    CHECK(h >= 0);
    atomic_store(&cross_h[me], h);
    atomic_store(&cross_ready[me], round + 1);
    serve_until(ep, &cross_ready[1 - me], round + 1);
    /* both threads send their clone RPC now, to each other */
    CHECK_EQ(vlsb_attr(atomic_load(&cross_h[1 - me]), VLSB_ATTR_GET_FLAGS, 0, 0), O_NONBLOCK);
    atomic_fetch_add(&cross_done, 1);
    serve_until(ep, &cross_done, 2 * (round + 1));
    CHECK_EQ(vlsb_close(h), 0);
  }
  CHECK_EQ(vlsb_close(ep), 0);
  return 0;
}

static void two_threads_clone_each_other(void) {
  CHECK_EQ(vlsb_app_init(VLSB_BACKEND_KERNEL, VLSB_MODE_THREAD, ""), 0);
  pthread_t t[2];
  for (intptr_t i = 0; i < 2; i++)
    spawn_registered(&t[i], crosser, (void *)i);
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], 0);
  CHECK_EQ(atomic_load(&cross_done), 2 * CROSS_ROUNDS);
  CHECK(counter_sum("\"migrationsOk\":") >= 2 * CROSS_ROUNDS);
  CHECK_EQ(counter_sum("\"migrationsTimedOut\":"), 0);
  CHECK_EQ(vlsb_app_fini(), 0);
}

/* ---- a clone RPC to a worker that never polls ---- */
#define RPC_TIMEOUT_MS 300
static int e_h, e_h2, e_wrk;
static uint8_t e_lep[VLSB_EP_SIZE];

static void *e_requester(void *arg) {
  (void)arg;
  e_wrk = vlsb_worker_register();
  CHECK(e_wrk >= 0);
  double t0 = now_ms();
  CHECK_EQ(vlsb_attr(e_h, VLSB_ATTR_GET_FLAGS, 0, 0), -EBADFD);
  double t1 = now_ms();
  CHECK_EQ(vlsb_connect(e_h, e_lep), -EBADFD);
  double t2 = now_ms();
  CHECK(t1 - t0 >= RPC_TIMEOUT_MS * 0.9 && t1 - t0 < RPC_TIMEOUT_MS * 8);
  CHECK(t2 - t1 >= RPC_TIMEOUT_MS * 0.9 && t2 - t1 < RPC_TIMEOUT_MS * 8);
  return 0;
}

/* A later thread given the same worker index: its clone of e_h2 must be
 * e_h2's, not an answer to the dead thread's stale request for e_h. */
static atomic_int e2_done;

static void *e_reuser(void *arg) {
  (void)arg;
  CHECK_EQ(vlsb_worker_register(), e_wrk);
  CHECK_EQ(vlsb_attr(e_h2, VLSB_ATTR_GET_FLAGS, 0, 0), O_NONBLOCK);
  atomic_store(&e2_done, 1);
  return 0;
}

static void rpc_to_worker_that_never_polls(void) {
  CHECK_EQ(vlsb_app_init(VLSB_BACKEND_KERNEL, VLSB_MODE_THREAD, "rpc_timeout_ms=300"), 0);
  int l = make_listener(0, e_lep);
  int ep = vlsb_epoll_create();
  e_h = vlsb_create(VLSB_PROTO_TCP, 0);  /* blocking: GET_FLAGS 0 */
  e_h2 = vlsb_create(VLSB_PROTO_TCP, 1); /* non-blocking: O_NONBLOCK */
  CHECK(ep >= 0 && e_h >= 0 && e_h2 >= 0);
  uint8_t any[VLSB_EP_SIZE];
  ep_loopback(any);
  CHECK_EQ(vlsb_bind(e_h, any), 0); /* bound, still CLOSED: a clone dups its fd */
  int fds = count_fds();
  pthread_t t;
  spawn_registered(&t, e_requester, 0);
  pthread_join(t, 0); /* blocked here: our mq is not drained */
  CHECK(counter_sum("\"migrationsTimedOut\":") >= 2);
  CHECK_EQ(counter_sum("\"migrationsOk\":"), 0);
  /* the two late requests are still queued to us; a new thread on the same
   * worker index asks for e_h2 before we drain them */
  long long sent = counter_sum("\"rpcsSent\":");
  spawn_registered(&t, e_reuser, 0);
  while (counter_sum("\"rpcsSent\":") == sent)
    sleep_ms(1); /* its request is queued behind the late ones */
  poll_until(ep, &e2_done, 1);
  pthread_join(t, 0);
  uint32_t evs[8];
  CHECK(vlsb_epoll_wait(ep, evs, 4, 0) >= 0);
  CHECK_EQ(count_fds(), fds); /* no late answer left a dup'ed fd behind */
  /* the owner's session is intact */
  CHECK_EQ(vlsb_attr(e_h, VLSB_ATTR_GET_FLAGS, 0, 0), 0);
  int s;
  CHECK_EQ(vlsb_connect(e_h, e_lep), 0);
  CHECK((s = vlsb_accept(l, 0, 0)) >= 0);
  char in[4];
  CHECK_EQ(write_all(e_h, "mine", 4), 0);
  CHECK_EQ(read_all(s, in, 4), 0);
  CHECK(memcmp(in, "mine", 4) == 0);
  CHECK_EQ(vlsb_close(s), 0);
  CHECK_EQ(vlsb_close(e_h), 0);
  CHECK_EQ(vlsb_close(e_h2), 0);
  CHECK_EQ(vlsb_close(ep), 0);
  CHECK_EQ(vlsb_close(l), 0);
  CHECK_EQ(vlsb_app_fini(), 0);
}

int main(void) {
  RUN(closed_session_used_by_another_thread);
  RUN(empty_epoll_set_migrates);
  RUN(connected_session_stays_with_owner);
  RUN(two_threads_clone_each_other);
  RUN(rpc_to_worker_that_never_polls);
  CTEST_END();
}
