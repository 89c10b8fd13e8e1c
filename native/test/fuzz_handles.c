/*
 * fuzz_handles.c - 4 threads call the ABI with a mix of their own handles
 * and random ones (other threads' live sessions, closed ones, never-issued
 * ones), in every mode: every call answers a handle, a count or a negative
 * errno; nothing crashes or hangs, and the sanitizers see no error. Thread
 * mode uses a short RPC timeout, since the owners of stolen handles do not
 * always poll.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/epoll.h>

#include "vtest.h"

#define ITERS 20000
#define OWN_MAX 64

static atomic_int go; /* all four start together */

static void *fuzzer(void *arg) {
  unsigned x = (unsigned)(uintptr_t)arg * 2654435761u + 1;
  int own[OWN_MAX], n = 0;
  char buf[256] = {0};
  uint32_t evs[16];
  uint8_t ep[VLSB_EP_SIZE];
  while (!atomic_load(&go))
    sched_yield();
  for (int i = 0; i < ITERS; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    int h = n && (x & 1) ? own[x % (unsigned)n] : (int)(x % 4096) - 16;
    if ((x & 0x30) == 0x30)
      h |= (int)((x >> 20) & 3) << 20; /* other generations */
    int rv = 0;
    switch ((x >> 8) % 11) {
    case 0:
      if (n < OWN_MAX && (rv = vlsb_create((x >> 16) & 1 ? VLSB_PROTO_UDP : VLSB_PROTO_TCP, 1)) >= 0)
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
      if (n < OWN_MAX && (rv = vlsb_epoll_create()) >= 0)
        own[n++] = rv;
      break;
    case 5:
      rv = vlsb_epoll_ctl(h, (int)(x % 4), n ? own[x % (unsigned)n] : 0, EPOLLIN, 1);
      break;
    case 6:
      rv = vlsb_epoll_wait(h, evs, 8, 0);
      break;
    case 7:
      rv = vlsb_attr(h, (int)((x >> 12) % 8), 0, ep);
      break;
    case 8:
      ep_loopback(ep);
      rv = vlsb_bind(h, ep);
      break;
    case 9:
      rv = vlsb_listen(h, 4);
      break;
    default:
      rv = vlsb_shutdown(h, (int)(x % 4));
    }
    CHECK(rv >= -4095);
  }
  for (int i = 0; i < n; i++)
    vlsb_close(own[i]);
  return 0;
}

static void fuzz_four_threads(int mode) {
  CHECK_EQ(vlsb_app_init(VLSB_BACKEND_KERNEL, mode, "rpc_timeout_ms=20"), 0);
  pthread_t t[4];
  atomic_store(&go, 0);
  for (uintptr_t i = 0; i < 4; i++)
    spawn_registered(&t[i], fuzzer, (void *)(i + 1));
  atomic_store(&go, 1);
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], 0);
  fprintf(stderr, "    mode %d: migrations ok %lld failed %lld timed out %lld, closes hit %lld\n", mode, counter_sum("\"migrationsOk\":"), counter_sum("\"migrationsFailed\":"), counter_sum("\"migrationsTimedOut\":"), counter_sum("\"cleanupsSent\":"));
  /* the app is still sound */
  uint8_t lep[VLSB_EP_SIZE];
  int l = make_listener(0, lep);
  int c, s;
  connect_pair(l, lep, &c, &s, 0);
  char b[4];
  CHECK_EQ(write_all(c, "fine", 4), 0);
  CHECK_EQ(read_all(s, b, 4), 0);
  CHECK(memcmp(b, "fine", 4) == 0);
  CHECK_EQ(vlsb_app_fini(), 0);
}

static void fuzz_single(void) { fuzz_four_threads(VLSB_MODE_SINGLE); }
static void fuzz_thread(void) { fuzz_four_threads(VLSB_MODE_THREAD); }
static void fuzz_process(void) { fuzz_four_threads(VLSB_MODE_PROCESS); }

int main(void) {
  RUN(fuzz_single);
  RUN(fuzz_thread);
  RUN(fuzz_process);
  CTEST_END();
}
