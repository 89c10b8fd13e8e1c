/*
 * vls_epoll.c - the epoll calls of the embedded VLS: epoll_ctl (two session
 * locks, in pool-index order) and epoll_wait (the session locks dropped
 * before the wait, the single-mode mq/spool locks only for the harvest).
 * epoll_create is a session call (vls_calls.c).
 */

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "vls_call.h"
#include "vls_fork.h"

/* ---------------- epoll ---------------- */

/* Locks the session sv while c holds ep's lock, keeping the order of two
 * session locks by pool index (two epoll_ctl calls naming each other's
 * sets must not lock in opposite orders). */
static void lock_second_session(call_t *c, vls_session_t *sv, uint32_t sv_idx, uint32_t ep_idx) {
  if (spin_trylock(&sv->lock)) {
    lock_count(LK_SESSION, 0);
    lock_debug_acquired(&sv->lock, LK_SESSION, 'x');
    return;
  }
  if (sv_idx < ep_idx) {
    /* Deliberate drop of ep's lock, to take both in index order. */
    spin_unlock(&c->v->lock);
    spin_lock(&sv->lock, LK_SESSION);
    spin_lock(&c->v->lock, LK_SESSION);
  } else {
    spin_lock(&sv->lock, LK_SESSION);
  }
}

/* As VLS: pool read lock, the epoll set's lock (migrating the set, not the
 * session, in thread mode), then the session's lock; no single-mode class
 * guard. Our VCL pool can grow under a concurrent create, so the spool read
 * lock is taken last, for the VCL call only. */
int vls_epoll_ctl(int ep, int op, int h, uint32_t events, uint32_t data) {
  call_t c;
  int rv = detect();
  if (rv < 0)
    return rv;
  memset(&c, 0, sizeof c);
  c.op = (uint8_t)LOCK_OP_OF(OP_EPOLL_CTL);
  /* Bad epoll handle: EBADFD with the pool lock released (spec 6). */
  if ((rv = get_w_dlock(&c, ep)) < 0)
    return rv;
  if (vlsm.mode == VLSB_MODE_THREAD && c.v->vcl_wrk != (uint32_t)vls_tl_wrk && (rv = vls_migrate(&c)) < 0)
    return rv; /* migration failed: everything released (spec 6) */
  uint32_t ep_idx = (uint32_t)ep & ((1u << VLS_IDX_BITS) - 1);
  uint32_t sv_idx;
  vls_session_t *sv = h == ep ? 0 : lookup(h, &sv_idx);
  if (!sv) {
    dunlock(&c); /* bad session: the set's lock and the pool lock released (spec 6) */
    return -EBADFD;
  }
  if (c.dlock)
    lock_second_session(&c, sv, sv_idx, ep_idx);
  if (vlsm.mode != VLSB_MODE_THREAD && c.dlock) {
    rw_rlock(&vlsm.spool_lock, LK_SPOOL);
    c.spool = 1;
  }
  vcl_worker_t *w = cur_wrk(&c);
  if (sv->vcl_wrk != w->index) {
    rv = -EBADFD; /* a session of another worker cannot join our set */
  } else {
    if (vlsm.mode == VLSB_MODE_PROCESS && op != EPOLL_CTL_MOD)
      vls_fork_mp_check(sv, w, sv->session_index, op == EPOLL_CTL_ADD);
    rv = vcl_epoll_ctl(w, c.v->session_index, op, sv->session_index, events, data);
  }
  unguard(&c);
  if (c.dlock)
    spin_unlock(&sv->lock);
  dunlock(&c);
  return rv;
}

int vls_epoll_wait(int ep, uint32_t *evs, int max, int timeout_ms) {
  call_t c;
  int rv = call_begin(&c, ep, OP_XPOLL);
  if (rv < 0)
    return rv;
  vcl_worker_t *w = cur_wrk(&c);
  uint32_t vep = c.v->session_index;
  /* As VLS does, the session and pool locks go before the wait; the mode's
   * mq/spool locks stay for the harvest. */
  dunlock(&c);
  if (vlsm.mode == VLSB_MODE_PROCESS)
    vls_fork_before_harvest(w);
  if (!c.mq && !c.spool) {
    /* No mode lock held (one thread, or per-thread workers): the blocking
     * kernel wait is the harvest. */
    rv = vcl_epoll_harvest(w, vep, evs, max, timeout_ms);
  } else {
    rv = vcl_epoll_harvest(w, vep, evs, max, 0);
    if (rv == 0 && timeout_ms != 0) {
      /* Without the spool lock another thread may grow (move) the VCL pool
       * or close this set: the wait uses a dup of the set's kernel epoll
       * fd, taken while the lock is still held, and nothing of the pool. */
      vcl_session_t *s = vcl_session_get(w, vep);
      int wfd = s ? fcntl(s->fd, F_DUPFD_CLOEXEC, 0) : -1;
      rv = wfd < 0 ? (s ? -errno : -EBADFD) : 0;
      /* Deliberate drop of the mq and spool locks before blocking, so other
       * threads can poll (spec 3); the blocking wait harvests by itself. */
      unguard(&c);
      if (wfd >= 0) {
        rv = vcl_epoll_harvest_fd(w, wfd, evs, max, timeout_ms);
        close(wfd);
      }
    }
  }
  unguard(&c);
  if (vlsm.mode == VLSB_MODE_PROCESS)
    vls_fork_handle_pending_cleanup();
  return rv;
}
