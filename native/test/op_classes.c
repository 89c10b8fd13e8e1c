/*
 * op_classes.c - single mode: which lock each operation class takes, and
 * how (docs/vls-model.md, "Single mode: a guard per operation class"),
 * counted by the core per class and per lock, shared or exclusive
 * (counters JSON "lockOps"). Four threads run reads, writes, epoll waits
 * and creates + closes at once; between two snapshots (taken while every
 * thread waits at a barrier) each class must have taken exactly:
 *   read, write:  pool shared + session, then mq at most once per call
 *                 (trylock, skipped when the session can go on without
 *                 it), then spool shared; never spool exclusive;
 *   poll:         pool shared + session, mq once per call, spool shared;
 *   pool changes: spool exclusive, never mq; create and close also take
 *                 the VLS pool for writing (close upgrades from shared).
 * No other class, and no thread-mode or process-mode lock, takes anything.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/epoll.h>

#include "vtest.h"

#define N_THREADS 4
#define ROUNDS 200

enum { POOL, SESSION, HANDLE_MAP, SPOOL, MQ, RPC, SHARED, N_LOCKS };
static const char *const LOCKS[N_LOCKS] = {"pool", "session", "handle_map", "spool", "mq", "worker_rpc", "shared_data"};
enum { O_OTHER, O_READ, O_WRITE, O_POLL, O_POOL_CHANGE, O_MIGRATE_ONLY, O_UNGUARDED, O_EPOLL_CTL, N_OPS };
static const char *const OPS[N_OPS] = {"other", "read", "write", "poll", "pool_change", "migrate_only", "unguarded", "epoll_ctl"};

typedef struct {
  long long n[N_OPS][N_LOCKS][2]; /* [op][lock][0: shared, 1: exclusive] */
} snap_t;

/* Reads "lockOps":{"read":{"pool":[s,x],...},...} from the counters JSON. */
static void snapshot(snap_t *out) {
  static char js[65536];
  CHECK(vlsb_counters_json(js, sizeof js) > 0);
  const char *ops = strstr(js, "\"lockOps\":{");
  CHECK(ops != 0);
  for (int o = 0; o < N_OPS; o++) {
    char key[64];
    snprintf(key, sizeof key, "\"%s\":{", OPS[o]);
    const char *obj = strstr(ops, key);
    CHECK(obj != 0);
    const char *end = strchr(obj + strlen(key), '}');
    CHECK(end != 0);
    for (int l = 0; l < N_LOCKS; l++) {
      snprintf(key, sizeof key, "\"%s\":[", LOCKS[l]);
      const char *p = strstr(obj, key);
      CHECK(p != 0 && p < end);
      CHECK_EQ(sscanf(p + strlen(key), "%lld,%lld", &out->n[o][l][0], &out->n[o][l][1]), 2);
    }
  }
}

static int servers[N_THREADS], eps[N_THREADS];
static pthread_barrier_t go, done, leave;
static atomic_llong reads, writes, polls, creates;

static void *worker(void *arg) {
  int i = (int)(intptr_t)arg;
  int s = servers[i];
  uint32_t evs[8];
  char b = 'x';
  pthread_barrier_wait(&go);
  for (int k = 0; k < ROUNDS; k++) {
    CHECK_EQ(vlsb_write(s, &b, 1), 1);
    atomic_fetch_add(&writes, 1);
    int r;
    do {
      r = vlsb_read(s, &b, 1); /* the peer wrote ROUNDS bytes before the start */
      atomic_fetch_add(&reads, 1);
    } while (r == -EAGAIN);
    CHECK_EQ(r, 1);
    CHECK_EQ(vlsb_epoll_wait(eps[i], evs, 4, 0), 0);
    atomic_fetch_add(&polls, 1);
    int h = vlsb_create(VLSB_PROTO_TCP, 1);
    CHECK(h >= 0);
    CHECK_EQ(vlsb_close(h), 0);
    atomic_fetch_add(&creates, 1);
  }
  pthread_barrier_wait(&done);
  pthread_barrier_wait(&leave); /* the main thread reads the counters meanwhile */
  return 0;
}

#define EXPECT(op, lock, shared, exclusive)                                                                    \
  do {                                                                                                         \
    CHECK_EQ(d.n[op][lock][0], (long long)(shared));                                                           \
    CHECK_EQ(d.n[op][lock][1], (long long)(exclusive));                                                        \
  } while (0)

static void classes_under_four_threads(void) {
  CHECK_EQ(vlsb_app_init(VLSB_BACKEND_KERNEL, VLSB_MODE_SINGLE, ""), 0);
  uint8_t lep[VLSB_EP_SIZE];
  int l = make_listener(0, lep);
  int clients[N_THREADS];
  char fill[ROUNDS];
  memset(fill, 'y', sizeof fill);
  for (int i = 0; i < N_THREADS; i++) {
    connect_pair(l, lep, &clients[i], &servers[i], O_NONBLOCK);
    CHECK_EQ(write_all(clients[i], fill, ROUNDS), 0);
    eps[i] = vlsb_epoll_create();
    CHECK(eps[i] >= 0);
  }
  pthread_barrier_init(&go, 0, N_THREADS + 1);
  pthread_barrier_init(&done, 0, N_THREADS + 1);
  pthread_barrier_init(&leave, 0, N_THREADS + 1);
  pthread_t t[N_THREADS];
  for (intptr_t i = 0; i < N_THREADS; i++)
    spawn_registered(&t[i], worker, (void *)i);
  snap_t a, b, d;
  snapshot(&a);
  pthread_barrier_wait(&go);
  pthread_barrier_wait(&done);
  snapshot(&b);
  pthread_barrier_wait(&leave);
  for (int i = 0; i < N_THREADS; i++)
    pthread_join(t[i], 0);
  for (int o = 0; o < N_OPS; o++)
    for (int k = 0; k < N_LOCKS; k++)
      for (int x = 0; x < 2; x++)
        d.n[o][k][x] = b.n[o][k][x] - a.n[o][k][x];

  long long R = atomic_load(&reads), W = atomic_load(&writes), P = atomic_load(&polls), C = atomic_load(&creates);
  CHECK_EQ(W, N_THREADS * ROUNDS);
  CHECK_EQ(P, N_THREADS * ROUNDS);
  CHECK_EQ(C, N_THREADS * ROUNDS);
  long long rw[2] = {R, W};
  for (int j = 0; j < 2; j++) {
    int op = j ? O_WRITE : O_READ;
    EXPECT(op, POOL, rw[j], 0);
    EXPECT(op, SESSION, 0, rw[j]);
    EXPECT(op, SPOOL, rw[j], 0);
    CHECK_EQ(d.n[op][MQ][0], 0);
    CHECK(d.n[op][MQ][1] <= rw[j]); /* by trylock: at most once per call */
  }
  /* the trylock was taken, not skipped every time */
  CHECK(d.n[O_READ][MQ][1] + d.n[O_WRITE][MQ][1] > 0);
  EXPECT(O_POLL, POOL, P, 0);
  EXPECT(O_POLL, SESSION, 0, P);
  EXPECT(O_POLL, MQ, 0, P);
  EXPECT(O_POLL, SPOOL, P, 0);
  /* create: spool exclusive, then the VLS pool for writing; close: the
   * pool shared and the session, spool exclusive, then the pool for writing */
  EXPECT(O_POOL_CHANGE, SPOOL, 0, 2 * C);
  EXPECT(O_POOL_CHANGE, MQ, 0, 0);
  EXPECT(O_POOL_CHANGE, POOL, C, 2 * C);
  EXPECT(O_POOL_CHANGE, SESSION, 0, C);
  for (int o = 0; o < N_OPS; o++)
    for (int k = 0; k < N_LOCKS; k++) {
      int used = (o == O_READ || o == O_WRITE || o == O_POLL || o == O_POOL_CHANGE) && k <= MQ && k != HANDLE_MAP;
      if (!used) {
        CHECK_EQ(d.n[o][k][0], 0);
        CHECK_EQ(d.n[o][k][1], 0);
      }
    }
  for (int i = 0; i < N_THREADS; i++) {
    CHECK_EQ(vlsb_close(eps[i]), 0);
    CHECK_EQ(vlsb_close(clients[i]), 0);
    CHECK_EQ(vlsb_close(servers[i]), 0);
  }
  CHECK_EQ(vlsb_close(l), 0);
  CHECK_EQ(vlsb_app_fini(), 0);
}

int main(void) {
  RUN(classes_under_four_threads);
  CTEST_END();
}
