/*
 * vls_migrate.c - thread-mode migration of the embedded VLS: clone-and-share
 * by RPC to the session's owner (spec 4), the owner's handling of the
 * messages, and the cleanup RPCs a close sends to the clones' workers.
 */

#include <sched.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "counters.h"
#include "vls_call.h"

/* ---------------- RPCs ---------------- */

void vls_on_msg(vcl_worker_t *w, const vcl_msg_t *m) {
  if (m->type == VCL_MSG_CLONE) {
    /* The VLS session is not protected here: do not touch it (spec 4.6).
     * Only our own VCL session and the requester's result slot. */
    vcl_worker_t *req = &vcl_workers[m->requester % VCL_MAX_WORKERS];
    pthread_mutex_lock(&req->rpc.lock);
    if (req->rpc.seq == m->seq) {
      vcl_session_t *s = vcl_session_get(w, m->session);
      if (s && s->gen == m->gen && vcl_session_clone_into(s, &req->rpc.copy) == 0)
        atomic_store(&req->rpc.state, VCL_RPC_SUCCESS);
      else
        atomic_store(&req->rpc.state, VCL_RPC_NOT_EXIST);
    }
    pthread_mutex_unlock(&req->rpc.lock);
    CNT_INC(w->index, rpcs_served);
  } else if (m->type == VCL_MSG_CLEANUP) {
    vcl_session_t *s = vcl_session_get(w, m->session);
    if (s && s->gen == m->gen) {
      vcl_close(w, m->session);
      vls_map_del(w->index, m->session);
    }
    CNT_INC(w->index, rpcs_served);
  }
}

static void rpc_pause(unsigned *spins) {
  if (++*spins < 200) {
    sched_yield();
  } else {
    struct timespec ts = {0, 20000};
    nanosleep(&ts, 0);
  }
}

/* Sends a clone-and-share RPC for owner's session src and waits for the
 * answer at most rpc_timeout_ms. Called with no VLS lock held. */
static int send_clone_rpc(vcl_worker_t *me, uint32_t owner, uint32_t src, uint32_t src_gen,
                          vcl_session_t *copy_out) {
  unsigned spins = 0;
  int contended = 0;
  /* Trylock, serving our own mq between tries: two threads cloning each
   * other's sessions at once each serve the other's request instead of
   * deadlocking (spec 4.5). */
  while (!spin_trylock(&vlsm.rpc_lock)) {
    contended = 1;
    vcl_mq_drain(me);
    rpc_pause(&spins);
  }
  lock_count(LK_RPC, contended);
  lock_debug_acquired(&vlsm.rpc_lock, LK_RPC, 'x');

  pthread_mutex_lock(&me->rpc.lock);
  uint64_t seq = ++me->rpc.seq;
  atomic_store(&me->rpc.state, VCL_RPC_INIT);
  pthread_mutex_unlock(&me->rpc.lock);

  vcl_msg_t m = {.type = VCL_MSG_CLONE, .session = src, .requester = me->index, .gen = src_gen,
                 .seq = seq};
  double t0 = rt_now_ns();
  double deadline = t0 + (double)vlsm.rpc_timeout_ms * 1e6;
  int rv = vcl_mq_send(owner, &m);
  if (!rv)
    CNT_INC(me->index, rpcs_sent);
  spins = 0;
  while (!rv && atomic_load(&me->rpc.state) == VCL_RPC_INIT && rt_now_ns() < deadline)
    rpc_pause(&spins);
  spin_unlock(&vlsm.rpc_lock);

  pthread_mutex_lock(&me->rpc.lock);
  int st = rv ? VCL_RPC_INIT : atomic_load(&me->rpc.state);
  if (st == VCL_RPC_SUCCESS)
    *copy_out = me->rpc.copy;
  me->rpc.seq++; /* an answer arriving from now on is discarded by the owner */
  pthread_mutex_unlock(&me->rpc.lock);
  if (st == VCL_RPC_SUCCESS)
    rpc_latency_record(rt_now_ns() - t0);
  return st;
}

void vls_send_cleanup_rpcs(vls_session_t *v, uint32_t except) {
  for (uint32_t w = 0; w < VCL_MAX_WORKERS; w++) {
    if (w == except || v->clones[w] == VCL_INVALID)
      continue;
    vcl_msg_t m = {.type = VCL_MSG_CLEANUP, .session = v->clones[w], .gen = v->clone_gen[w]};
    if (vcl_worker_get(w) && vcl_mq_send(w, &m) == 0)
      CNT_INC(except, cleanups_sent);
    v->clones[w] = VCL_INVALID;
  }
}

/* Clone-and-share migration of c->v into the caller's worker (spec 4). */
int vls_migrate(call_t *c) {
  vls_session_t *v = c->v;
  uint32_t me = (uint32_t)vls_tl_wrk;
  if (v->clones[me] != VCL_INVALID) {
    v->vcl_wrk = me;
    v->session_index = v->clones[me];
    cache_refresh(v);
    return 0;
  }
  uint32_t owner = v->owner_wrk;
  uint32_t src = v->clones[owner];
  uint32_t src_gen = v->clone_gen[owner];
  int owner_alive = src != VCL_INVALID && vcl_worker_get(owner) != 0;
  int h = c->h;
  /* Deliberate drop of the session and pool locks (spec 4.4): the owner may
   * need them to serve our RPC, so holding them could deadlock. */
  call_end(c);
  if (!owner_alive) {
    CNT_INC(me, migrations_failed);
    return -EBADFD;
  }
  vcl_worker_t *w = vcl_worker_get(me);
  vcl_session_t copy;
  int st = send_clone_rpc(w, owner, src, src_gen, &copy);
  if (st != VCL_RPC_SUCCESS) {
    if (st == VCL_RPC_INIT)
      CNT_INC(me, migrations_timeout);
    else
      CNT_INC(me, migrations_failed);
    return -EBADFD;
  }
  int movable = copy.state == VCL_S_VEP ? copy.vep_n == 0 : copy.state == VCL_S_CLOSED;
  uint32_t sid;
  vcl_session_t *s = movable ? vcl_session_alloc(w, &sid) : 0;
  if (!s) {
    if (copy.fd >= 0)
      close(copy.fd);
    CNT_INC(me, migrations_failed);
    return -EBADFD;
  }
  uint32_t gen = s->gen;
  *s = copy;
  s->gen = gen;
  if (copy.state == VCL_S_VEP) {
    /* An epoll set is re-created in our worker, with our mq in it. */
    int efd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = VCL_MQ_MARK};
    if (efd < 0 || epoll_ctl(efd, EPOLL_CTL_ADD, w->mq_efd, &ev) < 0) {
      if (efd >= 0)
        close(efd);
      s->fd = -1;
      vcl_session_free(w, sid);
      CNT_INC(me, migrations_failed);
      return -EBADFD;
    }
    s->fd = efd;
  }
  if (get_w_dlock(c, h) < 0) {
    vcl_close(w, sid);
    CNT_INC(me, migrations_failed);
    return -EBADFD;
  }
  c->v->clones[me] = sid;
  c->v->clone_gen[me] = gen;
  c->v->vcl_wrk = me;
  c->v->session_index = sid;
  cache_refresh(c->v);
  vls_map_set(me, sid, h);
  CNT_INC(me, migrations_ok);
  return 0;
}

