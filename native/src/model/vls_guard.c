/*
 * vls_guard.c - the locked, cold half of the call guard (vls_call.h): the
 * pool and session locks of a call, and the single-mode class locks by
 * operation (spec 3, table). Lock order: locks.h.
 */

#include <poll.h>

#include "vls_call.h"

int vls_get_w_dlock_locked(call_t *c, int h) {
  lock_op = c->op; /* the locks from here on count for this call's class */
  c->dlock = 1;
  rw_rlock(&vlsm.pool_lock, LK_POOL);
  c->v = lookup(h, 0);
  if (!c->v) {
    if (c->dlock)
      rw_runlock(&vlsm.pool_lock);
    c->dlock = 0;
    return -EBADFD;
  }
  if (c->dlock)
    spin_lock(&c->v->lock, LK_SESSION);
  return 0;
}

__attribute__((noinline, cold)) void vls_call_end_locked(call_t *c) {
  unguard(c);
  dunlock(c);
}

/* Uses the VLS session's cache, never the VCL pool: the spool lock is not
 * held yet (see cur_fd in vls.h). */
static int session_has_data_or_nonblocking(call_t *c) {
  if (c->v->cur_nonblocking || c->v->cur_fd < 0)
    return 1;
  struct pollfd p = {.fd = c->v->cur_fd, .events = POLLIN | POLLOUT};
  return poll(&p, 1, 0) == 1;
}

/* Single-worker locks by operation class (spec 3, table). */
__attribute__((noinline, cold)) void vls_acq_mode_locks(call_t *c, int op) {
  switch (op) {
  case OP_READ:
  case OP_WRITE: {
    /* mq mutex by trylock, giving up as soon as the session can make
     * progress without waiting on the mq (data, space, or non-blocking). */
    unsigned spins = 0;
    for (;;) {
      if (pthread_mutex_trylock(&vlsm.mq_mlock) == 0) {
        c->mq = 1;
        lock_count(LK_MQ, spins > 0);
        lock_debug_acquired(&vlsm.mq_mlock, LK_MQ, 'x');
        break;
      }
      if (session_has_data_or_nonblocking(c))
        break;
      cpu_relax_n(&spins);
    }
    rw_rlock(&vlsm.spool_lock, LK_SPOOL);
    c->spool = 1;
    break;
  }
  case OP_XPOLL:
    mutex_lock_counted(&vlsm.mq_mlock, LK_MQ);
    c->mq = 1;
    rw_rlock(&vlsm.spool_lock, LK_SPOOL);
    c->spool = 1;
    break;
  case OP_SPOOL:
    rw_wlock(&vlsm.spool_lock, LK_SPOOL);
    c->spool = 2;
    break;
  case OP_MIGRATE_ONLY:
  case OP_UNGUARDED:
    rw_rlock(&vlsm.spool_lock, LK_SPOOL);
    c->spool = 1;
    break;
  }
}

