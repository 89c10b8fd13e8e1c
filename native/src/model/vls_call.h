/*
 * vls_call.h - the call guard of the embedded VLS, internal to model/.
 * Every session call has the same shape:
 *   detect thread -> get_w_dlock (pool rlock, session lock) -> guard (mode
 *   locks, or migration) -> VCL op -> unguard -> dunlock.
 * With one thread in the process, no lock is taken at all (locks_needed()).
 * The locks a call took are recorded in its call_t, so a thread count that
 * changes mid-call never unbalances a pair. The one-thread path is inline
 * here; the locked paths are out of line and cold (vls_guard.c), so the
 * one-thread path compiles to what it would be with locking compiled out
 * (bench:micro counts it). Lock order: locks.h.
 */
#ifndef VLSB_VLS_CALL_H
#define VLSB_VLS_CALL_H

#include <errno.h>
#include <string.h>

#include "vls.h"
#include "vlsb.h"

/* Internal to the library: not exported from libvlsb.so, and thread-locals
 * reached without the dynamic-TLS call. */
#pragma GCC visibility push(hidden)

/* Operation classes of the guard. READ, WRITE, XPOLL and SPOOL are VLS's
 * (they migrate in thread mode and take the single-mode class locks);
 * MIGRATE_ONLY (attr) migrates but takes no class lock, UNGUARDED (bind)
 * does neither: a session of another worker is EBADFD, as in VLS. Those two
 * still take the spool read lock in single mode, because our VCL pool can
 * grow under a concurrent create. */
enum op_class { OP_READ, OP_WRITE, OP_XPOLL, OP_SPOOL, OP_MIGRATE_ONLY, OP_UNGUARDED, OP_EPOLL_CTL };
/* The lock counters' name of an op class (locks.h lock_op; lock_op_names
 * in counters.c lists them in this order after "other"). OP_EPOLL_CTL is
 * only counted: epoll_ctl has a guard of its own (vls_epoll.c). */
#define LOCK_OP_OF(op) ((op) + 1)

typedef struct {
  vls_session_t *v;
  int h;
  uint8_t dlock; /* pool rlock + session lock held */
  uint8_t mq;    /* single-mode mq mutex held */
  uint8_t spool; /* 1: spool rlock, 2: spool wlock */
  uint8_t op;    /* LOCK_OP_OF(the call's op class), for the lock counters */
} call_t;

extern uint32_t vls_epoch; /* bumped by every app init: stale thread state is re-detected */
extern _Thread_local uint32_t vls_tl_epoch;

/* VLSB_NO_LOCKS builds (bench only: `--variant nolocks`) compile the lock
 * paths out, to measure what the one-thread check itself costs. */
static inline int locks_needed(void) {
#ifdef VLSB_NO_LOCKS
  return 0;
#else
  return atomic_load_explicit(&vlsm.n_threads, memory_order_relaxed) > 1;
#endif
}

static inline vls_session_t *lookup(int h, uint32_t *idx_out) {
  if (h < 0)
    return 0;
  uint32_t idx = (uint32_t)h & ((1u << VLS_IDX_BITS) - 1);
  uint32_t gen = (uint32_t)h >> VLS_IDX_BITS;
  if (idx >= vlsm.n_alloc)
    return 0;
  vls_session_t *v = vls_at(idx);
  if (!v || !atomic_load(&v->in_use) || (v->gen & ((1u << VLS_GEN_BITS) - 1)) != gen)
    return 0;
  if (idx_out)
    *idx_out = idx;
  return v;
}

/* A thread's first call (vls.c). */
int vls_thread_add(void);

static inline int detect(void) {
  if (__builtin_expect(vls_tl_wrk >= 0 && vls_tl_epoch == vls_epoch, 1))
    return 0;
  return vls_thread_add();
}

__attribute__((noinline, cold)) int vls_get_w_dlock_locked(call_t *c, int h);

static inline int get_w_dlock(call_t *c, int h) {
  c->h = h;
  if (__builtin_expect(locks_needed(), 0))
    return vls_get_w_dlock_locked(c, h);
  c->dlock = 0;
  c->v = lookup(h, 0);
  return c->v ? 0 : -EBADFD;
}

static inline void dunlock(call_t *c) {
  if (c->dlock) {
    spin_unlock(&c->v->lock);
    rw_runlock(&vlsm.pool_lock);
    c->dlock = 0;
  }
}

static inline void unguard(call_t *c) {
  if (c->spool == 1)
    rw_runlock(&vlsm.spool_lock);
  else if (c->spool == 2)
    rw_wunlock(&vlsm.spool_lock);
  c->spool = 0;
  if (c->mq)
    mutex_unlock_counted(&vlsm.mq_mlock);
  c->mq = 0;
}

__attribute__((noinline, cold)) void vls_call_end_locked(call_t *c);

static inline void call_end(call_t *c) {
  if (__builtin_expect(c->dlock | c->mq | c->spool, 0))
    vls_call_end_locked(c);
}

/* Refreshes the cache from the current VCL session. Caller holds what the
 * VCL access needs (the session lock and, in single mode, the spool lock). */
static inline void cache_refresh(vls_session_t *v) {
  vcl_session_t *s = vcl_session_get(vcl_worker_get(v->vcl_wrk), v->session_index);
  v->cur_fd = s ? s->fd : -1;
  v->cur_nonblocking = s && (s->flags & VCL_F_NONBLOCK);
}

/* Single-worker locks by operation class (vls_guard.c). */
__attribute__((noinline, cold)) void vls_acq_mode_locks(call_t *c, int op);

/* Clone-and-share migration of c->v into the caller's worker (vls_migrate.c). */
int vls_migrate(call_t *c);

/* The guard: migration in thread mode, class locks in the other modes once
 * a second thread exists. Returns -EBADFD (all locks released) when a
 * migration failed. */
static inline int guard(call_t *c, int op) {
  if (vlsm.mode == VLSB_MODE_THREAD) {
    if (c->v && c->v->vcl_wrk != (uint32_t)vls_tl_wrk) {
      if (op != OP_UNGUARDED)
        return vls_migrate(c);
      /* VLS hands the owner's VCL handle to VCL, which refuses a handle of
       * another worker. */
      call_end(c);
      return -EBADFD;
    }
    return 0;
  }
  if (__builtin_expect(c->dlock, 0))
    vls_acq_mode_locks(c, op);
  return 0;
}

/* Common prologue: detect, lookup with dlock, guard. */
static inline int call_begin(call_t *c, int h, int op) {
  memset(c, 0, sizeof *c);
  c->op = (uint8_t)LOCK_OP_OF(op);
  int rv = detect();
  if (rv < 0)
    return rv;
  if ((rv = get_w_dlock(c, h)) < 0)
    return rv;
  return guard(c, op);
}

static inline vcl_worker_t *cur_wrk(call_t *c) { return vcl_worker_get(c->v->vcl_wrk); }

/* The VLS pool and the thread-mode handle map (vls.c). */
vls_session_t *vls_pool_alloc(uint32_t *idx_out);
void vls_pool_free(vls_session_t *v, uint32_t idx);
void vls_map_set(uint32_t wrk, uint32_t sidx, int32_t h);
void vls_map_del(uint32_t wrk, uint32_t sidx);

/* Migration RPCs (vls_migrate.c): the handler of every message a worker
 * drains, and the cleanup of a closed session's clones. */
void vls_on_msg(vcl_worker_t *w, const vcl_msg_t *m);
void vls_send_cleanup_rpcs(vls_session_t *v, uint32_t except);

#pragma GCC visibility pop

#endif
