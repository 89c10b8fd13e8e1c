/*
 * locks.h - the VLS lock primitives, counted.
 *
 * Each lock belongs to a class (pool, session, ...). Every acquisition and
 * every acquisition that found the lock taken (contended) is counted per
 * class, in a per-thread slot so the counting itself adds no shared cache
 * line traffic. The counters are summed by counters.c.
 *
 * The spin paths yield after a few tries: these machines have 2 cores, and a
 * spinning thread would otherwise burn the holder's core.
 *
 * Lock order (outer first), the one place it is written; every call keeps it:
 *   vls pool -> vls session (two sessions: by pool index, vls_epoll.c)
 *   -> mq (single mode) -> spool (single mode) -> handle map
 *   -> shared data, or the shared-data pool (never both).
 * The call guard takes pool and session first (get_w_dlock) and only then
 * the single-mode class locks (acq_mode_locks, mq before spool); a call
 * that makes a session (create, accept) releases spool before it takes the
 * pool write lock. The handle map is taken with spool held (close) or with
 * pool and session held (migration). Process mode's shared data is taken
 * under spool (accept, close) or under the pool write lock (fork). The
 * worker-RPC lock is only taken with no pool, session or class lock held
 * (a migration drops them first; while it waits it serves its own mq, so
 * the handle map and RPC result locks nest inside it). Inside the VCL
 * layer, vcl_workers_lock comes before a worker's mq_lock (vcl_worker_free
 * holds both to close the queue's eventfd); mq_lock and the RPC result
 * lock are innermost. docs/architecture.md points here.
 */
#ifndef VLSB_LOCKS_H
#define VLSB_LOCKS_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

enum lock_class {
  LK_POOL = 0,   /* VLS session pool rwlock */
  LK_SESSION,    /* per VLS session spinlock */
  LK_HANDLE_MAP, /* VCL handle -> VLS handle rwlock (thread mode) */
  LK_SPOOL,      /* VCL pool rwlock (single mode guard) */
  LK_MQ,         /* VCL message-queue mutex (single mode guard) */
  LK_RPC,        /* worker-RPC lock (thread mode migration) */
  LK_SHARED,     /* shared-data pool and shared data (process mode) */
  LK_N_CLASSES
};

extern const char *const lock_class_names[LK_N_CLASSES];

/* The operation a lock is taken for, as the model's call guard names it
 * (vls_call.h: its op class + 1; 0 for anything outside a session call),
 * so the counters show which lock, shared or exclusive, each operation
 * class takes. */
#define LOCK_OPS 8
extern const char *const lock_op_names[LOCK_OPS];

#define LOCK_SLOTS 64
typedef struct {
  uint64_t acq[LK_N_CLASSES];
  uint64_t contended[LK_N_CLASSES];
  uint64_t by_op[LOCK_OPS][LK_N_CLASSES][2]; /* [op][class][0: shared, 1: exclusive] */
  char pad[64];
} lock_stats_slot_t;

extern lock_stats_slot_t lock_stats[LOCK_SLOTS];
extern _Thread_local int lock_slot;
extern _Thread_local int lock_op; /* the calling thread's current operation (LOCK_OPS) */

/* Relaxed atomic load + store, not an atomic add: a slot has one writer
 * (its thread), and on x86 these are the plain mov/add/mov of "++"; they
 * only keep the counters JSON's concurrent reads race-free. */
#define LOCK_STAT_INC(x) __atomic_store_n(&(x), __atomic_load_n(&(x), __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED)
static inline void lock_count_kind(int cls, int contended, int exclusive) {
  lock_stats_slot_t *s = &lock_stats[lock_slot];
  LOCK_STAT_INC(s->acq[cls]);
  if (contended)
    LOCK_STAT_INC(s->contended[cls]);
  LOCK_STAT_INC(s->by_op[lock_op][cls][exclusive]);
}
/* An exclusive acquisition (mutex, spinlock, rwlock for writing). */
static inline void lock_count(int cls, int contended) { lock_count_kind(cls, contended, 1); }

/* Lock-debug builds (VLSB_LOCK_DEBUG, variant "debug") record which thread
 * holds which lock, so a hung test can dump the owners (SIGUSR2, see
 * lock_debug.c). Release builds compile these to nothing. */
#ifdef VLSB_LOCK_DEBUG
void lock_debug_acquired(const void *lock, int cls, char kind);
void lock_debug_released(const void *lock);
#else
static inline void lock_debug_acquired(const void *lock, int cls, char kind) {
  (void)lock;
  (void)cls;
  (void)kind;
}
static inline void lock_debug_released(const void *lock) { (void)lock; }
#endif

static inline void cpu_relax_n(unsigned *spins) {
  if (++*spins < 64)
    __builtin_ia32_pause();
  else
    sched_yield();
}

/* ---- spinlock ---- */
typedef struct {
  atomic_int v;
} spinlock_t;

static inline void spin_init(spinlock_t *l) { atomic_init(&l->v, 0); }

static inline int spin_trylock(spinlock_t *l) {
  int z = 0;
  return atomic_compare_exchange_strong_explicit(&l->v, &z, 1, memory_order_acquire,
                                                 memory_order_relaxed);
}

static inline void spin_lock(spinlock_t *l, int cls) {
  if (spin_trylock(l)) {
    lock_count(cls, 0);
    lock_debug_acquired(l, cls, 'x');
    return;
  }
  unsigned spins = 0;
  while (atomic_load_explicit(&l->v, memory_order_relaxed) || !spin_trylock(l))
    cpu_relax_n(&spins);
  lock_count(cls, 1);
  lock_debug_acquired(l, cls, 'x');
}

static inline void spin_unlock(spinlock_t *l) {
  lock_debug_released(l);
  atomic_store_explicit(&l->v, 0, memory_order_release);
}

/* ---- writer-preferring rwlock ----
 * A reader waits while a writer holds or waits for the lock: in VLS a writer
 * is usually a close or an alloc that everyone else must let through. */
typedef struct {
  atomic_int readers;
  atomic_int writer;
  atomic_int writers_waiting;
} rwlock_t;

static inline void rw_init(rwlock_t *l) {
  atomic_init(&l->readers, 0);
  atomic_init(&l->writer, 0);
  atomic_init(&l->writers_waiting, 0);
}

static inline void rw_rlock(rwlock_t *l, int cls) {
  unsigned spins = 0;
  int contended = 0;
  for (;;) {
    if (atomic_load(&l->writer) || atomic_load(&l->writers_waiting)) {
      contended = 1;
      cpu_relax_n(&spins);
      continue;
    }
    atomic_fetch_add(&l->readers, 1);
    if (!atomic_load(&l->writer))
      break;
    atomic_fetch_sub(&l->readers, 1);
  }
  lock_count_kind(cls, contended, 0);
  lock_debug_acquired(l, cls, 'r');
}

static inline void rw_runlock(rwlock_t *l) {
  lock_debug_released(l);
  atomic_fetch_sub(&l->readers, 1);
}

static inline int rw_try_wlock(rwlock_t *l) {
  int z = 0;
  if (!atomic_compare_exchange_strong(&l->writer, &z, 1))
    return 0;
  if (atomic_load(&l->readers) == 0)
    return 1;
  atomic_store(&l->writer, 0);
  return 0;
}

static inline void rw_wlock(rwlock_t *l, int cls) {
  unsigned spins = 0;
  int contended = 0;
  atomic_fetch_add(&l->writers_waiting, 1);
  for (;;) {
    int z = 0;
    if (atomic_compare_exchange_strong(&l->writer, &z, 1))
      break;
    contended = 1;
    cpu_relax_n(&spins);
  }
  atomic_fetch_sub(&l->writers_waiting, 1);
  while (atomic_load(&l->readers)) {
    contended = 1;
    cpu_relax_n(&spins);
  }
  lock_count(cls, contended);
  lock_debug_acquired(l, cls, 'w');
}

static inline void rw_wunlock(rwlock_t *l) {
  lock_debug_released(l);
  atomic_store(&l->writer, 0);
}

/* ---- counted mutex (the single-mode mq lock) ---- */
static inline void mutex_lock_counted(pthread_mutex_t *m, int cls) {
  if (pthread_mutex_trylock(m) == 0) {
    lock_count(cls, 0);
  } else {
    pthread_mutex_lock(m);
    lock_count(cls, 1);
  }
  lock_debug_acquired(m, cls, 'x');
}

static inline void mutex_unlock_counted(pthread_mutex_t *m) {
  lock_debug_released(m);
  pthread_mutex_unlock(m);
}

#endif
