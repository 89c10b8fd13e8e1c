/*
 * vls_calls.c - the session calls of the embedded VLS (create, bind,
 * listen, connect, accept, read, write, shutdown, attr, close), each
 * through the call guard of vls_call.h.
 */

#include <fcntl.h>
#include <poll.h>

#include "counters.h"
#include "vls_call.h"
#include "vls_fork.h"

/* ---------------- session calls ---------------- */

/* Allocates the VLS session for a new VCL session of worker w, whose fd and
 * O_NONBLOCK the caller read while it could. */
static int vls_new(uint32_t w, uint32_t sidx, uint32_t sgen, int fd, int nonblocking) {
  int lk = locks_needed();
  if (lk)
    rw_wlock(&vlsm.pool_lock, LK_POOL);
  uint32_t idx;
  vls_session_t *v = vls_pool_alloc(&idx);
  int h = -ENOMEM;
  if (v) {
    v->vcl_wrk = v->owner_wrk = w;
    v->session_index = sidx;
    v->clones[w] = sidx;
    v->clone_gen[w] = sgen;
    v->cur_fd = fd;
    v->cur_nonblocking = (uint8_t)(nonblocking != 0);
    h = vls_handle_of(v, idx);
  }
  if (lk)
    rw_wunlock(&vlsm.pool_lock);
  if (h >= 0 && vlsm.mode == VLSB_MODE_THREAD)
    vls_map_set(w, sidx, h);
  return h;
}

/* Runs a pool-changing VCL op under the SPOOL guard without a session. */
static void spool_begin(call_t *c) {
  memset(c, 0, sizeof *c);
  c->dlock = (uint8_t)locks_needed(); /* only records that locking is on */
  c->op = (uint8_t)LOCK_OP_OF(OP_SPOOL);
  if (c->dlock)
    lock_op = c->op; /* the new VLS session's pool lock (vls_new) counts here too */
  if (vlsm.mode != VLSB_MODE_THREAD && c->dlock)
    vls_acq_mode_locks(c, OP_SPOOL);
  c->dlock = 0;
}

/* create and epoll_create: a new VCL session in the caller's worker under
 * the SPOOL guard, then its VLS session. */
static int new_session(int is_vep, int proto, int nonblocking) {
  int rv = detect();
  if (rv < 0)
    return rv;
  call_t c;
  spool_begin(&c);
  vcl_worker_t *w = vcl_worker_get((uint32_t)vls_tl_wrk);
  uint32_t sidx;
  rv = is_vep ? vcl_epoll_create(w, &sidx) : vcl_create(w, proto, nonblocking, &sidx);
  vcl_session_t *s = rv < 0 ? 0 : vcl_session_get(w, sidx);
  int fd = s ? s->fd : -1;
  uint32_t sgen = s ? s->gen : 0;
  unguard(&c);
  if (rv < 0)
    return rv;
  int h = vls_new(w->index, sidx, sgen, fd, is_vep || nonblocking);
  if (h < 0)
    vcl_close(w, sidx);
  return h;
}

int vls_create(int proto, int nonblocking) { return new_session(0, proto, nonblocking); }
int vls_epoll_create(void) { return new_session(1, 0, 1); }

int vls_bind(int h, const uint8_t *ep) {
  call_t c;
  int rv = call_begin(&c, h, OP_UNGUARDED);
  if (rv < 0)
    return rv;
  rv = vcl_bind(cur_wrk(&c), c.v->session_index, ep);
  cache_refresh(c.v);
  call_end(&c);
  return rv;
}

int vls_listen(int h, int backlog) {
  call_t c;
  int rv = call_begin(&c, h, OP_XPOLL);
  if (rv < 0)
    return rv;
  rv = vcl_listen(cur_wrk(&c), c.v->session_index, backlog);
  call_end(&c);
  return rv;
}

int vls_connect(int h, const uint8_t *ep) {
  call_t c;
  int rv = call_begin(&c, h, OP_XPOLL);
  if (rv < 0)
    return rv;
  vcl_worker_t *w = cur_wrk(&c);
  uint32_t sidx = c.v->session_index;
  vcl_session_t *s = vcl_session_get(w, sidx);
  int blocking = s && !(s->flags & VCL_F_NONBLOCK);
  rv = vcl_connect(w, sidx, ep);
  cache_refresh(c.v);
  if (rv == -EINPROGRESS && blocking) {
    int fd = s->fd;
    /* Deliberate drop of every lock while the connect completes, so other
     * threads keep going; re-checked by handle afterwards. */
    call_end(&c);
    int wr = vcl_wait_fd(w, fd, POLLOUT, -1);
    if (wr < 0)
      return wr;
    if ((rv = call_begin(&c, h, OP_XPOLL)) < 0)
      return rv;
    if (atomic_load(&c.v->app_closed)) {
      call_end(&c);
      return -EBADFD;
    }
    rv = vcl_connect(cur_wrk(&c), c.v->session_index, ep);
  }
  call_end(&c);
  return rv;
}

int vls_accept(int h, uint8_t *ep_out, int flags) {
  call_t c;
  for (;;) {
    int rv = call_begin(&c, h, OP_SPOOL);
    if (rv < 0)
      return rv;
    vcl_worker_t *w = cur_wrk(&c);
    uint32_t lidx = c.v->session_index;
    if (vlsm.mode == VLSB_MODE_PROCESS)
      vls_fork_mp_check(c.v, w, lidx, 1);
    uint32_t nidx;
    rv = vcl_accept(w, lidx, ep_out, flags, &nidx);
    vcl_session_t *ls = vcl_session_get(w, lidx);
    int blocking = ls && !(ls->flags & VCL_F_NONBLOCK);
    int lfd = ls ? ls->fd : -1;
    int nfd = rv == 0 ? vcl_session_get(w, nidx)->fd : -1;
    uint32_t ngen = rv == 0 ? vcl_session_get(w, nidx)->gen : 0;
    call_end(&c);
    if (rv == 0) {
      int nh = vls_new(w->index, nidx, ngen, nfd, flags & O_NONBLOCK);
      if (nh < 0)
        vcl_close(w, nidx);
      return nh;
    }
    if (rv != -EAGAIN || !blocking)
      return rv;
    /* Blocking accept: wait with no lock held (deliberate), then retry. */
    int wr = vcl_wait_fd(w, lfd, POLLIN, -1);
    if (wr < 0)
      return wr;
  }
}

/* read and write share this: non-blocking attempt under the guard; a
 * blocking session waits with every lock dropped and retries. */
static int rw_call(int h, void *buf, int len, int is_write) {
  call_t c;
  for (int waited = 0;; waited = 1) {
    int rv = call_begin(&c, h, is_write ? OP_WRITE : OP_READ);
    if (rv < 0)
      return rv;
    if (waited && atomic_load(&c.v->app_closed)) {
      /* closed by another thread while we waited: tell the waiter */
      call_end(&c);
      return -EBADFD;
    }
    vcl_worker_t *w = cur_wrk(&c);
    uint32_t sidx = c.v->session_index;
    rv = is_write ? vcl_write(w, sidx, buf, len) : vcl_read(w, sidx, buf, len);
    if (rv != -EAGAIN) {
      call_end(&c);
      if (rv < 0 && rv != -EAGAIN)
        CNT_INC(w->index, errors);
      return rv;
    }
    vcl_session_t *s = vcl_session_get(w, sidx);
    int blocking = s && !(s->flags & VCL_F_NONBLOCK);
    int fd = s ? s->fd : -1;
    call_end(&c);
    if (!blocking)
      return -EAGAIN;
    /* Deliberate drop (spec 3): VLS releases the mq and spool locks before
     * VCL blocks, so other threads can poll; here every lock goes, and the
     * session is looked up again (APP_CLOSED checked) after the wait. */
    int wr = vcl_wait_fd(w, fd, is_write ? POLLOUT : POLLIN, -1);
    if (wr < 0)
      return wr;
  }
}

int vls_read(int h, void *buf, int len) { return rw_call(h, buf, len, 0); }
int vls_write(int h, const void *buf, int len) { return rw_call(h, (void *)buf, len, 1); }

int vls_shutdown(int h, int how) {
  call_t c;
  int rv = call_begin(&c, h, OP_SPOOL);
  if (rv < 0)
    return rv;
  rv = vcl_shutdown(cur_wrk(&c), c.v->session_index, how);
  call_end(&c);
  return rv;
}

int vls_attr(int h, int op, int value, uint8_t *ep_out) {
  call_t c;
  int rv = call_begin(&c, h, OP_MIGRATE_ONLY);
  if (rv < 0)
    return rv;
  rv = vcl_attr(cur_wrk(&c), c.v->session_index, op, value, ep_out);
  cache_refresh(c.v);
  call_end(&c);
  return rv;
}

int vls_close(int h) {
  int rv = detect();
  if (rv < 0)
    return rv;
  call_t c;
  memset(&c, 0, sizeof c);
  c.h = h;
  c.op = (uint8_t)LOCK_OP_OF(OP_SPOOL);
  c.dlock = (uint8_t)locks_needed();
  if (c.dlock) {
    lock_op = c.op;
    rw_rlock(&vlsm.pool_lock, LK_POOL);
  }
  uint32_t idx;
  c.v = lookup(h, &idx);
  if (!c.v) {
    if (c.dlock)
      rw_runlock(&vlsm.pool_lock);
    return -EBADFD;
  }
  /* APP_CLOSED before the session lock: another thread may hold that lock
   * while it waits in VCL; this tells it the session is going. In thread
   * mode the close may still fail (a migration refused), so there it is
   * set only once the session is ours. */
  int early = vlsm.mode != VLSB_MODE_THREAD;
  if (early)
    atomic_store(&c.v->app_closed, 1);
  if (c.dlock)
    spin_lock(&c.v->lock, LK_SESSION);
  if ((rv = guard(&c, OP_SPOOL)) < 0)
    return rv; /* migration failed: the session stays with its owner, open */
  vls_session_t *v = c.v;
  atomic_store(&v->app_closed, 1);
  uint32_t w = v->vcl_wrk, sidx = v->session_index;
  if (vlsm.mode == VLSB_MODE_PROCESS && v->shared_idx != VCL_INVALID)
    rv = vls_fork_unshare(v, vcl_worker_get(w), sidx);
  else
    rv = vcl_close(vcl_worker_get(w), sidx);
  if (vlsm.mode == VLSB_MODE_THREAD) {
    vls_send_cleanup_rpcs(v, w);
    vls_map_del(w, sidx);
  }
  v->clones[w] = VCL_INVALID;
  unguard(&c);
  /* Upgrade to the pool write lock to free: drop ours first (deliberate),
   * then wait until nobody else holds the session. */
  if (c.dlock) {
    spin_unlock(&v->lock);
    rw_runlock(&vlsm.pool_lock);
  }
  int lk = locks_needed();
  if (lk) {
    rw_wlock(&vlsm.pool_lock, LK_POOL);
    unsigned spins = 0;
    while (!spin_trylock(&v->lock))
      cpu_relax_n(&spins);
    spin_unlock(&v->lock);
  }
  if (lookup(h, 0) == v)
    vls_pool_free(v, idx);
  if (lk)
    rw_wunlock(&vlsm.pool_lock);
  return rv;
}

