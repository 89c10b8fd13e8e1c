/*
 * concurrency.c - the native concurrency paths under real threads, for the
 * ASan/UBSan and TSan builds: single-mode echo from 4 threads sharing one
 * VCL worker, thread-mode migration of CLOSED sessions and epoll sets while
 * the owner polls, two threads cloning each other's sessions, and a fuzz of
 * random handles from 4 threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>

#include "ctest.h"
#include "vlsb.h"

static uint8_t ep_listen[VLSB_EP_SIZE];

static int make_listener(void) {
  uint8_t ep[VLSB_EP_SIZE] = {4, 0, 0, 0, 127, 0, 0, 1};
  int l = vlsb_create(VLSB_PROTO_TCP, 1);
  CHECK(l >= 0);
  CHECK(vlsb_bind(l, ep) == 0);
  CHECK(vlsb_listen(l, 128) == 0);
  CHECK(vlsb_attr(l, VLSB_ATTR_GET_LCL_ADDR, 0, ep_listen) == 0);
  return l;
}

/* ---- single mode: 4 threads echo over their own connections ---- */
static int single_listener;
static atomic_int single_ok;

static void *single_client(void *arg) {
  (void)arg;
  int c = vlsb_create(VLSB_PROTO_TCP, 0);
  CHECK(c >= 0);
  CHECK(vlsb_connect(c, ep_listen) == 0);
  int s = -EAGAIN;
  for (int i = 0; i < 100000 && s < 0; i++)
    s = vlsb_accept(single_listener, 0, O_NONBLOCK);
  CHECK(s >= 0);
  char out[512], in[512];
  for (int round = 0; round < 200; round++) {
    for (int i = 0; i < 512; i++)
      out[i] = (char)(round * 7 + i);
    CHECK(vlsb_write(c, out, 512) == 512);
    int got = 0;
    while (got < 512) {
      int r = vlsb_read(s, in + got, 512 - got);
      if (r == -EAGAIN)
        continue;
      CHECK(r > 0);
      got += r;
    }
    CHECK(memcmp(in, out, 512) == 0);
  }
  CHECK(vlsb_close(s) == 0);
  CHECK(vlsb_close(c) == 0);
  atomic_fetch_add(&single_ok, 1);
  return 0;
}

static void single_mode_threads(void) {
  CHECK(vlsb_app_init(VLSB_BACKEND_KERNEL, VLSB_MODE_SINGLE, "") == 0);
  single_listener = make_listener();
  pthread_t t[4];
  for (int i = 0; i < 4; i++)
    pthread_create(&t[i], 0, single_client, 0);
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], 0);
  CHECK(atomic_load(&single_ok) == 4);
  char js[8192];
  CHECK(vlsb_counters_json(js, sizeof js) > 0);
  CHECK(strstr(js, "\"pool\":{\"acquired\":0") == 0); /* locking was on */
  CHECK(vlsb_close(single_listener) == 0);
  CHECK(vlsb_app_fini() == 0);
}

/* ---- thread mode: migration while the owner polls ---- */
static atomic_int owner_stop;
static int mig_session, mig_epoll, mig_rv_attr, mig_rv_ctl;

static void *migrator(void *arg) {
  (void)arg;
  mig_rv_attr = vlsb_attr(mig_session, VLSB_ATTR_GET_FLAGS, 0, 0); /* CLOSED: migrates */
  int l = make_listener();
  mig_rv_ctl = vlsb_epoll_ctl(mig_epoll, EPOLL_CTL_ADD, l, EPOLLIN, 1); /* empty set: migrates */
  vlsb_close(l);
  atomic_store(&owner_stop, 1);
  return 0;
}

static void thread_mode_migration(void) {
  CHECK(vlsb_app_init(VLSB_BACKEND_KERNEL, VLSB_MODE_THREAD, "") == 0);
  int ep = vlsb_epoll_create();
  mig_session = vlsb_create(VLSB_PROTO_TCP, 1);
  mig_epoll = vlsb_epoll_create();
  CHECK(ep >= 0 && mig_session >= 0 && mig_epoll >= 0);
  pthread_t t;
  pthread_create(&t, 0, migrator, 0);
  uint32_t evs[16];
  while (!atomic_load(&owner_stop))
    vlsb_epoll_wait(ep, evs, 8, 5); /* the owner serves RPCs while it polls */
  pthread_join(t, 0);
  CHECK(mig_rv_attr == O_NONBLOCK);
  CHECK(mig_rv_ctl == 0);
  char js[8192];
  CHECK(vlsb_counters_json(js, sizeof js) > 0);
  CHECK(strstr(js, "\"migrationsOk\":2") != 0);
  vlsb_app_fini();
}

/* ---- two threads cloning each other's sessions at once ---- */
static int cross_h[2];
static atomic_int cross_ready[2], cross_done;

static void *crosser(void *arg) {
  int me = (int)(intptr_t)arg;
  int ep = vlsb_epoll_create();
  uint32_t evs[8];
  for (int round = 0; round < 300; round++) {
    cross_h[me] = vlsb_create(VLSB_PROTO_TCP, 1);
    atomic_store(&cross_ready[me], round + 1);
    while (atomic_load(&cross_ready[1 - me]) < round + 1)
      vlsb_epoll_wait(ep, evs, 8, 0);
    CHECK(vlsb_attr(cross_h[1 - me], VLSB_ATTR_GET_FLAGS, 0, 0) == O_NONBLOCK);
    atomic_fetch_add(&cross_done, 1);
    while (atomic_load(&cross_done) < 2 * (round + 1))
      vlsb_epoll_wait(ep, evs, 8, 0);
  }
  return 0;
}

static void two_threads_clone_each_other(void) {
  CHECK(vlsb_app_init(VLSB_BACKEND_KERNEL, VLSB_MODE_THREAD, "") == 0);
  pthread_t t[2];
  for (intptr_t i = 0; i < 2; i++)
    pthread_create(&t[i], 0, crosser, (void *)i);
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], 0);
  CHECK(atomic_load(&cross_done) == 600);
  vlsb_app_fini();
}

/* ---- fuzz from 4 threads ---- */
static void *fuzzer(void *arg) {
  unsigned x = (unsigned)(uintptr_t)arg * 2654435761u + 1;
  int own[64], n = 0;
  char buf[256];
  uint32_t evs[16];
  for (int i = 0; i < 20000; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    int h = n && (x & 1) ? own[x % (unsigned)n] : (int)(x % 4096) - 16;
    int rv = 0;
    switch ((x >> 8) % 9) {
    case 0:
      if (n < 64 && (rv = vlsb_create(VLSB_PROTO_TCP, 1)) >= 0)
        own[n++] = rv;
      break;
    case 1:
      rv = vlsb_read(h, buf, (int)(x % 256));
      break;
    case 2:
      rv = vlsb_write(h, buf, (int)(x % 256));
      break;
    case 3:
      rv = vlsb_close(h);
      break;
    case 4:
      if (n < 64 && (rv = vlsb_epoll_create()) >= 0)
        own[n++] = rv;
      break;
    case 5:
      rv = vlsb_epoll_ctl(h, (int)(x % 4), own[x % (unsigned)(n ? n : 1)] * (n > 0), EPOLLIN, 1);
      break;
    case 6:
      rv = vlsb_epoll_wait(h, evs, 8, 0);
      break;
    case 7:
      rv = vlsb_attr(h, VLSB_ATTR_GET_FLAGS, 0, 0);
      break;
    default:
      rv = vlsb_shutdown(h, (int)(x % 4));
    }
    CHECK(rv >= -200);
  }
  for (int i = 0; i < n; i++)
    vlsb_close(own[i]);
  return 0;
}

static void fuzz_four_threads(int mode) {
  CHECK(vlsb_app_init(VLSB_BACKEND_KERNEL, mode, "rpc_timeout_ms=20") == 0);
  pthread_t t[4];
  for (uintptr_t i = 0; i < 4; i++)
    pthread_create(&t[i], 0, fuzzer, (void *)(i + 1));
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], 0);
  vlsb_app_fini();
}

static void fuzz_single(void) { fuzz_four_threads(VLSB_MODE_SINGLE); }
static void fuzz_thread(void) { fuzz_four_threads(VLSB_MODE_THREAD); }

int main(void) {
  RUN(single_mode_threads, 60);
  RUN(thread_mode_migration, 60);
  RUN(two_threads_clone_each_other, 60);
  RUN(fuzz_single, 120);
  RUN(fuzz_thread, 120);
  CTEST_END();
}
