/*
 * vtest.h - helpers the C tests share, over the public ABI (vlsb.h) only:
 * loopback listeners on port 0, connected pairs, whole-buffer I/O, counter
 * reads from vlsb_counters_json, a clock and a spin-wait.
 */
#ifndef VLSB_VTEST_H
#define VLSB_VTEST_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctest.h"
#include "vlsb.h"

/* 127.0.0.1:0 */
static inline void ep_loopback(uint8_t *ep) {
  memset(ep, 0, VLSB_EP_SIZE);
  ep[0] = 4;
  ep[4] = 127;
  ep[7] = 1;
}

/* A listening TCP session on 127.0.0.1, port chosen by the kernel; its
 * address (with the port) goes to ep_out. */
static inline int make_listener(int nonblocking, uint8_t *ep_out) {
  uint8_t ep[VLSB_EP_SIZE];
  ep_loopback(ep);
  int l = vlsb_create(VLSB_PROTO_TCP, nonblocking);
  CHECK(l >= 0);
  CHECK_EQ(vlsb_bind(l, ep), 0);
  CHECK_EQ(vlsb_listen(l, 128), 0);
  CHECK_EQ(vlsb_attr(l, VLSB_ATTR_GET_LCL_ADDR, 0, ep_out), 0);
  CHECK(ep_out[0] == 4);
  uint16_t port;
  memcpy(&port, ep_out + 2, 2);
  CHECK(port != 0);
  return l;
}

/* Accepts one connection on listener l, retrying while it says EAGAIN. */
static inline int accept_one(int l, int flags) {
  for (;;) {
    int s = vlsb_accept(l, 0, flags);
    if (s != -EAGAIN)
      return s;
    struct timespec ts = {0, 200000};
    nanosleep(&ts, 0);
  }
}

/* A blocking client connected to l's address and its accepted peer (with
 * accept_flags), both owned by the calling thread's worker. */
static inline void connect_pair(int l, const uint8_t *ep, int *client, int *server, int accept_flags) {
  int c = vlsb_create(VLSB_PROTO_TCP, 0);
  CHECK(c >= 0);
  CHECK_EQ(vlsb_connect(c, ep), 0);
  int s = accept_one(l, accept_flags);
  CHECK(s >= 0);
  *client = c;
  *server = s;
}

/* Writes all len bytes (retrying short writes and EAGAIN); 0 or -errno. */
static inline int write_all(int h, const void *buf, int len) {
  const char *p = buf;
  while (len > 0) {
    int w = vlsb_write(h, p, len);
    if (w == -EAGAIN)
      continue;
    if (w <= 0)
      return w < 0 ? w : -EIO;
    p += w;
    len -= w;
  }
  return 0;
}

/* Reads exactly len bytes; 0, -EPIPE at end of stream, or -errno. */
static inline int read_all(int h, void *buf, int len) {
  char *p = buf;
  while (len > 0) {
    int r = vlsb_read(h, p, len);
    if (r == -EAGAIN)
      continue;
    if (r == 0)
      return -EPIPE;
    if (r < 0)
      return r;
    p += r;
    len -= r;
  }
  return 0;
}

/* Deterministic test bytes: stream `seed`, offset `off`. */
static inline void fill_pattern(char *buf, int len, unsigned seed, unsigned off) {
  for (int i = 0; i < len; i++)
    buf[i] = (char)((seed * 131u + (off + (unsigned)i) * 7u + ((off + (unsigned)i) >> 8)) & 0xff);
}

/* Sum of every number that follows `key` (e.g. "\"migrationsOk\":") in the
 * counters JSON: per-worker counters add up over the workers. */
static inline long long counter_sum(const char *key) {
  char js[65536];
  CHECK(vlsb_counters_json(js, sizeof js) > 0);
  long long sum = 0;
  size_t kl = strlen(key);
  for (const char *p = strstr(js, key); p; p = strstr(p + kl, key))
    sum += strtoll(p + kl, 0, 10);
  return sum;
}

/* Acquisitions of one lock class ("pool", "session", "spool", "mq", ...). */
static inline long long lock_acquired(const char *cls) {
  char key[64];
  snprintf(key, sizeof key, "\"%s\":{\"acquired\":", cls);
  return counter_sum(key);
}

static inline long long all_lock_acquisitions(void) {
  static const char *const classes[] = {"pool", "session", "handle_map", "spool", "mq", "worker_rpc", "shared_data"};
  long long n = 0;
  for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
    n += lock_acquired(classes[i]);
  return n;
}

/* Starts a thread that registers with VLS before it runs fn, and returns
 * once it has. VLS takes no lock while the process has one thread, so a
 * thread's first call must not overlap a call already running lock-free
 * on the only other thread (the 1 -> 2 transition is unprotected by design,
 * as in VPP's VLS): the caller makes no VLS call while this waits, and the
 * threads register one at a time. */
typedef struct {
  void *(*fn)(void *);
  void *arg;
  atomic_int registered;
} vtest_start_t;

static void *vtest_thread_main(void *p) {
  vtest_start_t *st = p;
  void *(*fn)(void *) = st->fn;
  void *arg = st->arg;
  CHECK(vlsb_worker_register() >= 0);
  atomic_store(&st->registered, 1); /* st belongs to the spawner from here */
  return fn(arg);
}

static inline void spawn_registered(pthread_t *t, void *(*fn)(void *), void *arg) {
  vtest_start_t st = {.fn = fn, .arg = arg};
  atomic_init(&st.registered, 0);
  CHECK_EQ(pthread_create(t, 0, vtest_thread_main, &st), 0);
  while (!atomic_load(&st.registered)) {
    struct timespec ts = {0, 100000};
    nanosleep(&ts, 0);
  }
}

static inline double now_ms(void) { return vlsb_now_ns() / 1e6; }

static inline void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, 0);
}

#endif
