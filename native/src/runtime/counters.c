/*
 * counters.c - the counters snapshot (JSON for the ABI) and the migration
 * RPC latency ring that TypeScript drains into an HDR histogram.
 */

#include "counters.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "locks.h"

counters_shm_t *cnt;

const char *const lock_class_names[LK_N_CLASSES] = {
    "pool", "session", "handle_map", "spool", "mq", "worker_rpc", "shared_data",
};
const char *const lock_op_names[LOCK_OPS] = {
    "other", "read", "write", "poll", "pool_change", "migrate_only", "unguarded", "epoll_ctl",
};
lock_stats_slot_t lock_stats[LOCK_SLOTS];
_Thread_local int lock_slot;
_Thread_local int lock_op;

int counters_map(void) {
  if (cnt)
    return 0;
  void *p = mmap(0, sizeof *cnt, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return -errno;
  cnt = p;
  return 0;
}

void counters_reset(void) {
  if (cnt)
    memset(cnt, 0, sizeof *cnt);
  memset(lock_stats, 0, sizeof lock_stats);
}

/* ---- RPC latency ring (ns); overwrites the oldest when not drained ---- */
#define RPC_RING 65536
static double rpc_ring[RPC_RING];
static uint64_t rpc_head, rpc_tail;
static pthread_mutex_t rpc_ring_lock = PTHREAD_MUTEX_INITIALIZER;

void rpc_latency_record(double ns) {
  pthread_mutex_lock(&rpc_ring_lock);
  rpc_ring[rpc_tail++ % RPC_RING] = ns;
  if (rpc_tail - rpc_head > RPC_RING)
    rpc_head = rpc_tail - RPC_RING;
  pthread_mutex_unlock(&rpc_ring_lock);
}

int rpc_latencies_drain(double *out, int max) {
  pthread_mutex_lock(&rpc_ring_lock);
  int n = 0;
  while (n < max && rpc_head < rpc_tail)
    out[n++] = rpc_ring[rpc_head++ % RPC_RING];
  pthread_mutex_unlock(&rpc_ring_lock);
  return n;
}

/* ---- JSON snapshot ---- */
typedef struct {
  char *buf;
  int cap, len;
} jbuf_t;

static void jp(jbuf_t *j, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int room = j->cap - j->len;
  int n = vsnprintf(j->buf + (j->len < j->cap ? j->len : j->cap), room > 0 ? (size_t)room : 0,
                    fmt, ap);
  va_end(ap);
  j->len += n;
}

int counters_json(char *buf, int cap, int backend, int mode) {
  jbuf_t j = {buf, cap, 0};
  uint64_t acq[LK_N_CLASSES] = {0}, con[LK_N_CLASSES] = {0};
  for (int s = 0; s < LOCK_SLOTS; s++)
    for (int c = 0; c < LK_N_CLASSES; c++) {
      acq[c] += __atomic_load_n(&lock_stats[s].acq[c], __ATOMIC_RELAXED);
      con[c] += __atomic_load_n(&lock_stats[s].contended[c], __ATOMIC_RELAXED);
    }
  jp(&j, "{\"backend\":%d,\"mode\":%d,\"locks\":{", backend, mode);
  for (int c = 0; c < LK_N_CLASSES; c++)
    jp(&j, "%s\"%s\":{\"acquired\":%llu,\"contended\":%llu}", c ? "," : "", lock_class_names[c],
       (unsigned long long)acq[c], (unsigned long long)con[c]);
  /* Per operation: each class's [shared, exclusive] acquisitions. */
  jp(&j, "},\"lockOps\":{");
  for (int o = 0; o < LOCK_OPS; o++) {
    jp(&j, "%s\"%s\":{", o ? "," : "", lock_op_names[o]);
    for (int c = 0; c < LK_N_CLASSES; c++) {
      uint64_t k[2] = {0, 0};
      for (int s = 0; s < LOCK_SLOTS; s++)
        for (int x = 0; x < 2; x++)
          k[x] += __atomic_load_n(&lock_stats[s].by_op[o][c][x], __ATOMIC_RELAXED);
      jp(&j, "%s\"%s\":[%llu,%llu]", c ? "," : "", lock_class_names[c], (unsigned long long)k[0],
         (unsigned long long)k[1]);
    }
    jp(&j, "}");
  }
  jp(&j, "},\"workers\":[");
  int first = 1;
  /* Relaxed atomic loads: other threads (and forked workers) bump these
   * with atomic adds while we read. */
#define LD(x) ((unsigned long long)__atomic_load_n(&(x), __ATOMIC_RELAXED))
  for (int w = 0; cnt && w < RT_MAX_WORKERS; w++) {
    wrk_counters_t *c = &cnt->wrk[w];
    if (!__atomic_load_n(&c->used, __ATOMIC_RELAXED))
      continue;
    jp(&j,
       "%s{\"index\":%d,\"pid\":%d,\"accepts\":%llu,\"readCalls\":%llu,\"writeCalls\":%llu,"
       "\"bytesIn\":%llu,\"bytesOut\":%llu,\"errors\":%llu,\"migrationsOk\":%llu,"
       "\"migrationsFailed\":%llu,\"migrationsTimedOut\":%llu,\"rpcsSent\":%llu,"
       "\"rpcsServed\":%llu,\"cleanupsSent\":%llu,\"listenerStarts\":%llu,\"syscalls\":%llu,"
       "\"epollWaits\":%llu}",
       first ? "" : ",", w, (int)__atomic_load_n(&c->pid, __ATOMIC_RELAXED), LD(c->accepts),
       LD(c->msgs_in), LD(c->msgs_out), LD(c->bytes_in), LD(c->bytes_out), LD(c->errors),
       LD(c->migrations_ok), LD(c->migrations_failed), LD(c->migrations_timeout), LD(c->rpcs_sent),
       LD(c->rpcs_served), LD(c->cleanups_sent), LD(c->listener_starts), LD(c->syscalls),
       LD(c->epoll_waits));
    first = 0;
  }
  jp(&j, "],\"childCleanups\":%llu,\"forks\":%llu}", cnt ? LD(cnt->child_cleanups) : 0ull,
     cnt ? LD(cnt->forks) : 0ull);
#undef LD
  if (j.len >= cap)
    return -ENOSPC;
  return j.len;
}
