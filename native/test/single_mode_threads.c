/*
 * single_mode_threads.c - single mode (one VCL worker shared by every
 * thread): while one thread is the only caller no lock is taken at all;
 * then one acceptor thread takes 4 connections from one shared listener,
 * 4 server threads echo them with blocking reads and writes while 4 client
 * threads stream patterned data through and verify every byte, all at
 * once. Afterwards the lock counters show the single-mode guard was used.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>

#include "vtest.h"

#define N_CONN 4
#define ROUNDS 150
#define MAX_CHUNK 4096

static int listener;
static uint8_t lep[VLSB_EP_SIZE];
static atomic_int accepted[N_CONN]; /* handle + 1, 0 while not accepted */
static atomic_int clients_ok, echoes_ok;
static atomic_llong bytes_verified;

static void one_thread_uses_no_lock(void) {
  CHECK_EQ(vlsb_app_init(VLSB_BACKEND_KERNEL, VLSB_MODE_SINGLE, ""), 0);
  listener = make_listener(0, lep);
  int c, s;
  connect_pair(listener, lep, &c, &s, 0);
  char out[8192], in[8192];
  for (unsigned i = 0; i < 16; i++) {
    fill_pattern(out, sizeof out, 99, i * sizeof out);
    CHECK_EQ(write_all(c, out, sizeof out), 0);
    CHECK_EQ(read_all(s, in, sizeof in), 0);
    CHECK(memcmp(in, out, sizeof out) == 0);
  }
  int ep = vlsb_epoll_create();
  uint32_t evs[8];
  CHECK_EQ(vlsb_epoll_ctl(ep, EPOLL_CTL_ADD, s, EPOLLIN, 5), 0);
  CHECK_EQ(vlsb_epoll_wait(ep, evs, 4, 0), 0);
  CHECK_EQ(vlsb_close(ep), 0);
  CHECK_EQ(vlsb_close(c), 0);
  CHECK_EQ(vlsb_close(s), 0);
  /* one thread has made every call so far: every lock helper was a no-op */
  CHECK_EQ(all_lock_acquisitions(), 0);
}

static void *acceptor(void *arg) {
  (void)arg;
  for (int i = 0; i < N_CONN; i++) {
    int s = vlsb_accept(listener, 0, 0); /* blocking: waits with no lock held */
    CHECK(s >= 0);
    atomic_store(&accepted[i], s + 1);
  }
  return 0;
}

/* Echoes connection i back with blocking reads until its client closes. */
static void *echo_server(void *arg) {
  int i = (int)(intptr_t)arg;
  int s;
  while ((s = atomic_load(&accepted[i]) - 1) < 0)
    sleep_ms(1);
  char buf[MAX_CHUNK];
  for (;;) {
    int r = vlsb_read(s, buf, sizeof buf);
    if (r == 0)
      break;
    CHECK(r > 0);
    CHECK_EQ(write_all(s, buf, r), 0);
  }
  CHECK_EQ(vlsb_close(s), 0);
  atomic_fetch_add(&echoes_ok, 1);
  return 0;
}

/* Streams chunks of varying sizes and checks each comes back intact. */
static void *client(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg;
  int c = vlsb_create(VLSB_PROTO_TCP, 0);
  CHECK(c >= 0);
  CHECK_EQ(vlsb_connect(c, lep), 0);
  char out[MAX_CHUNK], in[MAX_CHUNK];
  unsigned off = 0, x = seed * 2654435761u + 1;
  for (int round = 0; round < ROUNDS; round++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    int len = 1 + (int)(x % MAX_CHUNK);
    fill_pattern(out, len, seed, off);
    CHECK_EQ(write_all(c, out, len), 0);
    CHECK_EQ(read_all(c, in, len), 0);
    CHECK(memcmp(in, out, (size_t)len) == 0);
    off += (unsigned)len;
    atomic_fetch_add(&bytes_verified, len);
  }
  CHECK_EQ(vlsb_close(c), 0);
  atomic_fetch_add(&clients_ok, 1);
  return 0;
}

static void four_threads_echo(void) {
  pthread_t acc, srv[N_CONN], cli[N_CONN];
  spawn_registered(&acc, acceptor, 0);
  for (intptr_t i = 0; i < N_CONN; i++)
    spawn_registered(&srv[i], echo_server, (void *)i);
  for (intptr_t i = 0; i < N_CONN; i++)
    spawn_registered(&cli[i], client, (void *)(i + 1));
  for (int i = 0; i < N_CONN; i++)
    pthread_join(cli[i], 0);
  pthread_join(acc, 0);
  for (int i = 0; i < N_CONN; i++)
    pthread_join(srv[i], 0);
  CHECK_EQ(atomic_load(&clients_ok), N_CONN);
  CHECK_EQ(atomic_load(&echoes_ok), N_CONN);
  CHECK(atomic_load(&bytes_verified) > 0);
  /* more than one thread called: the pool, session and single-mode guard
   * locks were all taken */
  CHECK(lock_acquired("pool") > 0);
  CHECK(lock_acquired("session") > 0);
  CHECK(lock_acquired("spool") > 0);
  CHECK(lock_acquired("mq") > 0);
  CHECK_EQ(lock_acquired("worker_rpc"), 0); /* no migration in single mode */
  CHECK_EQ(counter_sum("\"migrationsOk\":"), 0);
  /* the threads are gone; the listener is still fine for the main thread */
  int c, s;
  connect_pair(listener, lep, &c, &s, O_NONBLOCK);
  CHECK_EQ(write_all(c, "end", 3), 0);
  char b[3];
  CHECK_EQ(read_all(s, b, 3), 0);
  CHECK(memcmp(b, "end", 3) == 0);
  CHECK_EQ(vlsb_close(c), 0);
  CHECK_EQ(vlsb_close(s), 0);
  CHECK_EQ(vlsb_close(listener), 0);
  CHECK_EQ(vlsb_app_fini(), 0);
}

int main(void) {
  RUN(one_thread_uses_no_lock);
  RUN(four_threads_echo);
  CTEST_END();
}
