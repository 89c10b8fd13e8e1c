/*
 * shutdown.c - vlsb_shutdown(how) on a connected TCP session, in each mode:
 * after SHUT_WR a write is EPIPE and the peer reads end of stream while the
 * other direction still flows; after SHUT_RD a read returns 0 at once (a
 * blocking one too) while writes still go; SHUT_RDWR does both; an invalid
 * how is EINVAL; an unconnected session or a listener is ENOTCONN; an epoll
 * set or a bad handle is EBADFD. A thread blocked in read wakes with 0
 * when another thread shuts the session down for reading.
 */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "vtest.h"

static void shutdown_in_mode(int mode) {
  CHECK_EQ(vlsb_app_init(VLSB_BACKEND_KERNEL, mode, ""), 0);
  uint8_t lep[VLSB_EP_SIZE];
  char b[16];
  int l = make_listener(0, lep);

  /* not connected */
  int u = vlsb_create(VLSB_PROTO_TCP, 0);
  CHECK(u >= 0);
  CHECK_EQ(vlsb_shutdown(u, SHUT_WR), -ENOTCONN);
  CHECK_EQ(vlsb_shutdown(u, SHUT_RDWR), -ENOTCONN);
  CHECK_EQ(vlsb_shutdown(l, SHUT_RD), -ENOTCONN);
  int ep = vlsb_epoll_create();
  CHECK_EQ(vlsb_shutdown(ep, SHUT_RDWR), -EBADFD);
  CHECK_EQ(vlsb_shutdown(-1, SHUT_RDWR), -EBADFD);
  CHECK_EQ(vlsb_shutdown(INT_MAX, SHUT_RD), -EBADFD);

  /* invalid how, on a connected session: nothing changes */
  int c, s;
  connect_pair(l, lep, &c, &s, 0);
  CHECK_EQ(vlsb_shutdown(c, -1), -EINVAL);
  CHECK_EQ(vlsb_shutdown(c, 3), -EINVAL);
  CHECK_EQ(vlsb_shutdown(c, 1000), -EINVAL);
  CHECK_EQ(write_all(c, "still", 5), 0);
  CHECK_EQ(read_all(s, b, 5), 0);

  /* SHUT_WR: our writes fail, the peer sees end of stream, the other way
   * still works */
  CHECK_EQ(vlsb_shutdown(c, SHUT_WR), 0);
  CHECK_EQ(vlsb_write(c, "x", 1), -EPIPE);
  CHECK_EQ(vlsb_read(s, b, sizeof b), 0);
  CHECK_EQ(write_all(s, "reply", 5), 0);
  CHECK_EQ(read_all(c, b, 5), 0);
  CHECK(memcmp(b, "reply", 5) == 0);
  CHECK_EQ(vlsb_shutdown(c, SHUT_WR), 0); /* again: harmless */
  CHECK_EQ(vlsb_close(c), 0);
  CHECK_EQ(vlsb_close(s), 0);

  /* SHUT_RD: reads return 0 at once (this session is blocking), writes go */
  connect_pair(l, lep, &c, &s, 0);
  CHECK_EQ(vlsb_shutdown(s, SHUT_RD), 0);
  CHECK_EQ(vlsb_read(s, b, sizeof b), 0);
  CHECK_EQ(write_all(s, "out", 3), 0);
  CHECK_EQ(read_all(c, b, 3), 0);
  CHECK(memcmp(b, "out", 3) == 0);
  CHECK_EQ(vlsb_read(s, b, sizeof b), 0);
  CHECK_EQ(vlsb_close(c), 0);
  CHECK_EQ(vlsb_close(s), 0);

  /* SHUT_RDWR: both; the peer reads end of stream */
  connect_pair(l, lep, &c, &s, O_NONBLOCK);
  CHECK_EQ(vlsb_shutdown(s, SHUT_RDWR), 0);
  CHECK_EQ(vlsb_read(s, b, sizeof b), 0);
  CHECK_EQ(vlsb_write(s, "x", 1), -EPIPE);
  CHECK_EQ(vlsb_read(c, b, sizeof b), 0);
  CHECK_EQ(vlsb_close(c), 0);
  CHECK_EQ(vlsb_close(s), 0);
  CHECK_EQ(vlsb_shutdown(s, SHUT_RDWR), -EBADFD); /* closed */

  CHECK_EQ(vlsb_close(u), 0);
  CHECK_EQ(vlsb_close(ep), 0);
  CHECK_EQ(vlsb_close(l), 0);
  CHECK_EQ(vlsb_app_fini(), 0);
}

/* A thread blocked in read on a session that another thread shuts down
 * for reading wakes with 0 (one VCL worker: single and process modes). */
static int r_s;
static atomic_int r_result = -1000;

static void *blocked_reader(void *arg) {
  (void)arg;
  char b[16];
  atomic_store(&r_result, vlsb_read(r_s, b, sizeof b));
  return 0;
}

static void shutdown_wakes_blocked_reader(int mode) {
  CHECK_EQ(vlsb_app_init(VLSB_BACKEND_KERNEL, mode, ""), 0);
  uint8_t lep[VLSB_EP_SIZE];
  int l = make_listener(0, lep);
  int c;
  connect_pair(l, lep, &c, &r_s, 0);
  atomic_store(&r_result, -1000);
  pthread_t t;
  spawn_registered(&t, blocked_reader, 0);
  sleep_ms(50); /* let it block */
  CHECK_EQ(atomic_load(&r_result), -1000);
  CHECK_EQ(vlsb_shutdown(r_s, SHUT_RD), 0);
  for (int i = 0; i < 2000 && atomic_load(&r_result) == -1000; i++)
    sleep_ms(1);
  CHECK_EQ(atomic_load(&r_result), 0);
  pthread_join(t, 0);
  CHECK_EQ(vlsb_close(c), 0);
  CHECK_EQ(vlsb_close(r_s), 0);
  CHECK_EQ(vlsb_close(l), 0);
  CHECK_EQ(vlsb_app_fini(), 0);
}

static void wakes_reader_single(void) { shutdown_wakes_blocked_reader(VLSB_MODE_SINGLE); }
static void wakes_reader_process(void) { shutdown_wakes_blocked_reader(VLSB_MODE_PROCESS); }

static void shutdown_single(void) { shutdown_in_mode(VLSB_MODE_SINGLE); }
static void shutdown_thread(void) { shutdown_in_mode(VLSB_MODE_THREAD); }
static void shutdown_process(void) { shutdown_in_mode(VLSB_MODE_PROCESS); }

int main(void) {
  RUN(shutdown_single);
  RUN(shutdown_thread);
  RUN(shutdown_process);
  RUN(wakes_reader_single);
  RUN(wakes_reader_process);
  CTEST_END();
}
