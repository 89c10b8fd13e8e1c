/*
 * vls.c - VCL Locked Sessions over the embedded VCL layer: thread detection,
 * the per-mode call guard, migration by clone-and-share RPC, close with
 * clone cleanup, as docs/architecture.md describes the VLS design; process
 * mode (fork, shared data, SIGCHLD) is in vls_fork.c.
 *
 * Every public call has the same shape:
 *   detect thread -> get_w_dlock (pool rlock, session lock) -> guard (mode
 *   locks, or migration) -> VCL op -> unguard -> dunlock.
 * With one thread in the process, no lock is taken at all (locks_needed()).
 * The locks a call took are recorded in its call_t, so a thread count that
 * changes mid-call never unbalances a pair.
 */

#include "vls.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "counters.h"
#include "vls_fork.h"
#include "vlsb.h"

vls_main_t vlsm;
_Thread_local int vls_tl_wrk = -1;
static _Thread_local uint32_t vls_tl_epoch;
static uint32_t vls_epoch; /* bumped by every app init: stale thread state is re-detected */
static atomic_int lock_slot_next;
static pthread_key_t thread_exit_key;
static pthread_once_t thread_exit_key_once = PTHREAD_ONCE_INIT;

/* Operation classes of the guard. READ, WRITE, XPOLL and SPOOL are VLS's
 * (they migrate in thread mode and take the single-mode class locks);
 * MIGRATE_ONLY (attr) migrates but takes no class lock, UNGUARDED (bind)
 * does neither: a session of another worker is EBADFD, as in VLS. Those two
 * still take the spool read lock in single mode, because our VCL pool can
 * grow under a concurrent create. */
enum op_class { OP_READ, OP_WRITE, OP_XPOLL, OP_SPOOL, OP_MIGRATE_ONLY, OP_UNGUARDED };

typedef struct {
  vls_session_t *v;
  int h;
  uint8_t dlock; /* pool rlock + session lock held */
  uint8_t mq;    /* single-mode mq mutex held */
  uint8_t spool; /* 1: spool rlock, 2: spool wlock */
} call_t;

/* VLSB_NO_LOCKS builds (bench only: `--variant nolocks`) compile the lock
 * paths out, to measure what the one-thread check itself costs. */
static inline int locks_needed(void) {
#ifdef VLSB_NO_LOCKS
  return 0;
#else
  return atomic_load_explicit(&vlsm.n_threads, memory_order_relaxed) > 1;
#endif
}

/* ---------------- pool ---------------- */

vls_session_t *vls_at(uint32_t idx) {
  uint32_t c = idx / VLS_CHUNK;
  if (c >= VLS_MAX_CHUNKS || !vlsm.chunks[c])
    return 0;
  return &vlsm.chunks[c][idx % VLS_CHUNK];
}

static vls_session_t *lookup(int h, uint32_t *idx_out) {
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

/* Caller holds the pool write lock (or is alone). */
static vls_session_t *pool_alloc(uint32_t *idx_out) {
  uint32_t idx;
  if (vlsm.n_free) {
    idx = vlsm.free_idx[--vlsm.n_free];
  } else {
    if (vlsm.n_alloc == (uint32_t)VLS_CHUNK * VLS_MAX_CHUNKS)
      return 0;
    uint32_t c = vlsm.n_alloc / VLS_CHUNK;
    if (!vlsm.chunks[c]) {
      vlsm.chunks[c] = calloc(VLS_CHUNK, sizeof(vls_session_t));
      if (!vlsm.chunks[c])
        return 0;
      uint32_t *nf = realloc(vlsm.free_idx, (size_t)(c + 1) * VLS_CHUNK * sizeof *nf);
      if (!nf)
        return 0;
      vlsm.free_idx = nf;
    }
    idx = vlsm.n_alloc++;
  }
  vls_session_t *v = vls_at(idx);
  uint32_t gen = v->gen;
  memset(v, 0, sizeof *v);
  v->gen = gen;
  spin_init(&v->lock);
  v->shared_idx = VCL_INVALID;
  for (int i = 0; i < VCL_MAX_WORKERS; i++)
    v->clones[i] = VCL_INVALID;
  atomic_store(&v->in_use, 1);
  vlsm.n_live++;
  *idx_out = idx;
  return v;
}

/* Caller holds the pool write lock (or is alone). */
static void pool_free(vls_session_t *v, uint32_t idx) {
  atomic_store(&v->in_use, 0);
  v->gen++;
  vlsm.free_idx[vlsm.n_free++] = idx;
  vlsm.n_live--;
}

/* ---------------- handle map (VCL handle -> VLS handle) ---------------- */

static void map_set(uint32_t wrk, uint32_t sidx, int32_t h) {
  int lk = locks_needed();
  if (lk)
    rw_wlock(&vlsm.map_lock, LK_HANDLE_MAP);
  if (sidx >= vlsm.sh_to_vlsh_len[wrk]) {
    uint32_t n = vlsm.sh_to_vlsh_len[wrk] ? vlsm.sh_to_vlsh_len[wrk] : 64;
    while (n <= sidx)
      n *= 2;
    int32_t *m = realloc(vlsm.sh_to_vlsh[wrk], n * sizeof *m);
    if (m) {
      for (uint32_t i = vlsm.sh_to_vlsh_len[wrk]; i < n; i++)
        m[i] = -1;
      vlsm.sh_to_vlsh[wrk] = m;
      vlsm.sh_to_vlsh_len[wrk] = n;
    }
  }
  if (sidx < vlsm.sh_to_vlsh_len[wrk])
    vlsm.sh_to_vlsh[wrk][sidx] = h;
  if (lk)
    rw_wunlock(&vlsm.map_lock);
}

static void map_del(uint32_t wrk, uint32_t sidx) {
  int lk = locks_needed();
  if (lk)
    rw_wlock(&vlsm.map_lock, LK_HANDLE_MAP);
  if (sidx < vlsm.sh_to_vlsh_len[wrk])
    vlsm.sh_to_vlsh[wrk][sidx] = -1;
  if (lk)
    rw_wunlock(&vlsm.map_lock);
}

/* ---------------- threads ---------------- */

static void thread_exit_destructor(void *arg) {
  (void)arg;
  if (vls_tl_wrk >= 0 && vls_tl_epoch == vls_epoch && vlsm.initialized)
    vls_unregister_thread();
}

static void make_exit_key(void) { pthread_key_create(&thread_exit_key, thread_exit_destructor); }

/* A thread's first call: count it, turn locking on, and give it a worker
 * (its own in thread mode, the process's otherwise). */
static int thread_add(void) {
  if (!vlsm.initialized)
    return -ENOTCONN;
  lock_slot = atomic_fetch_add(&lock_slot_next, 1) % LOCK_SLOTS;
  if (vlsm.mode == VLSB_MODE_THREAD) {
    int w = vcl_worker_alloc(-1);
    if (w < 0)
      return w;
    vls_tl_wrk = w;
  } else {
    vls_tl_wrk = (int)vlsm.main_wrk;
  }
  vls_tl_epoch = vls_epoch;
  atomic_fetch_add(&vlsm.n_threads, 1);
  pthread_setspecific(thread_exit_key, (void *)1);
  return 0;
}

static inline int detect(void) {
  if (__builtin_expect(vls_tl_wrk >= 0 && vls_tl_epoch == vls_epoch, 1))
    return 0;
  return thread_add();
}

int vls_register_thread(void) {
  int rv = detect();
  return rv < 0 ? rv : vls_tl_wrk;
}

/* Drops every trace of worker w from the VLS pool: clones it held go, and a
 * session whose only VCL session lived there is freed. Pool write lock held. */
static void forget_worker_sessions(uint32_t w) {
  for (uint32_t i = 0; i < vlsm.n_alloc; i++) {
    vls_session_t *v = vls_at(i);
    if (!atomic_load(&v->in_use) || v->clones[w] == VCL_INVALID)
      continue;
    v->clones[w] = VCL_INVALID;
    if (v->vcl_wrk == w) {
      int other = -1;
      for (int k = 0; k < VCL_MAX_WORKERS && other < 0; k++)
        if (v->clones[k] != VCL_INVALID)
          other = k;
      if (other < 0) {
        pool_free(v, i);
        continue;
      }
      v->vcl_wrk = (uint32_t)other;
      v->session_index = v->clones[other];
    }
    if (v->owner_wrk == w)
      v->owner_wrk = v->vcl_wrk;
  }
}

int vls_unregister_thread(void) {
  if (vls_tl_wrk < 0 || vls_tl_epoch != vls_epoch)
    return -ENOENT;
  uint32_t w = (uint32_t)vls_tl_wrk;
  if (vlsm.mode == VLSB_MODE_THREAD && w != vlsm.main_wrk) {
    int lk = locks_needed();
    if (lk)
      rw_wlock(&vlsm.pool_lock, LK_POOL);
    forget_worker_sessions(w);
    if (lk)
      rw_wunlock(&vlsm.pool_lock);
    vcl_worker_free(w, 1);
    free(vlsm.sh_to_vlsh[w]);
    vlsm.sh_to_vlsh[w] = 0;
    vlsm.sh_to_vlsh_len[w] = 0;
  }
  vls_tl_wrk = -1;
  atomic_fetch_sub(&vlsm.n_threads, 1);
  pthread_setspecific(thread_exit_key, 0);
  return 0;
}

/* ---------------- RPCs ---------------- */

static void on_msg(vcl_worker_t *w, const vcl_msg_t *m) {
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
      map_del(w->index, m->session);
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

static void send_cleanup_rpcs(vls_session_t *v, uint32_t except) {
  for (uint32_t w = 0; w < VCL_MAX_WORKERS; w++) {
    if (w == except || v->clones[w] == VCL_INVALID)
      continue;
    vcl_msg_t m = {.type = VCL_MSG_CLEANUP, .session = v->clones[w], .gen = v->clone_gen[w]};
    if (vcl_worker_get(w) && vcl_mq_send(w, &m) == 0)
      CNT_INC(except, cleanups_sent);
    v->clones[w] = VCL_INVALID;
  }
}

/* ---------------- call guard ---------------- */

/* The locked paths are out of line and cold, so the one-thread path compiles
 * to what it would be with locking compiled out (bench:micro counts it). */
__attribute__((noinline, cold)) static int get_w_dlock_locked(call_t *c, int h);

static inline int get_w_dlock(call_t *c, int h) {
  c->h = h;
  if (__builtin_expect(locks_needed(), 0))
    return get_w_dlock_locked(c, h);
  c->dlock = 0;
  c->v = lookup(h, 0);
  return c->v ? 0 : -EBADFD;
}

static int get_w_dlock_locked(call_t *c, int h) {
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

static void dunlock(call_t *c) {
  if (c->dlock) {
    spin_unlock(&c->v->lock);
    rw_runlock(&vlsm.pool_lock);
    c->dlock = 0;
  }
}

static void unguard(call_t *c) {
  if (c->spool == 1)
    rw_runlock(&vlsm.spool_lock);
  else if (c->spool == 2)
    rw_wunlock(&vlsm.spool_lock);
  c->spool = 0;
  if (c->mq)
    mutex_unlock_counted(&vlsm.mq_mlock);
  c->mq = 0;
}

__attribute__((noinline, cold)) static void call_end_locked(call_t *c) {
  unguard(c);
  dunlock(c);
}

static inline void call_end(call_t *c) {
  if (__builtin_expect(c->dlock | c->mq | c->spool, 0))
    call_end_locked(c);
}

/* Uses the VLS session's cache, never the VCL pool: the spool lock is not
 * held yet (see cur_fd in vls.h). */
static int session_has_data_or_nonblocking(call_t *c) {
  if (c->v->cur_nonblocking || c->v->cur_fd < 0)
    return 1;
  struct pollfd p = {.fd = c->v->cur_fd, .events = POLLIN | POLLOUT};
  return poll(&p, 1, 0) == 1;
}

/* Refreshes the cache from the current VCL session. Caller holds what the
 * VCL access needs (the session lock and, in single mode, the spool lock). */
static void cache_refresh(vls_session_t *v) {
  vcl_session_t *s = vcl_session_get(vcl_worker_get(v->vcl_wrk), v->session_index);
  v->cur_fd = s ? s->fd : -1;
  v->cur_nonblocking = s && (s->flags & VCL_F_NONBLOCK);
}

/* Single-worker locks by operation class (spec 3, table). */
__attribute__((noinline, cold)) static void acq_mode_locks(call_t *c, int op) {
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

static int migrate(call_t *c);

/* The guard: migration in thread mode, class locks in the other modes once
 * a second thread exists. Returns -EBADFD (all locks released) when a
 * migration failed. */
static int guard(call_t *c, int op) {
  if (vlsm.mode == VLSB_MODE_THREAD) {
    if (c->v && c->v->vcl_wrk != (uint32_t)vls_tl_wrk) {
      if (op != OP_UNGUARDED)
        return migrate(c);
      /* VLS hands the owner's VCL handle to VCL, which refuses a handle of
       * another worker. */
      call_end(c);
      return -EBADFD;
    }
    return 0;
  }
  if (__builtin_expect(c->dlock, 0))
    acq_mode_locks(c, op);
  return 0;
}

/* Clone-and-share migration of c->v into the caller's worker (spec 4). */
static int migrate(call_t *c) {
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
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 1ull << 32};
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
  map_set(me, sid, h);
  CNT_INC(me, migrations_ok);
  return 0;
}

/* Common prologue: detect, lookup with dlock, guard. */
static int call_begin(call_t *c, int h, int op) {
  memset(c, 0, sizeof *c);
  int rv = detect();
  if (rv < 0)
    return rv;
  if ((rv = get_w_dlock(c, h)) < 0)
    return rv;
  return guard(c, op);
}

static inline vcl_worker_t *cur_wrk(call_t *c) { return vcl_worker_get(c->v->vcl_wrk); }

/* ---------------- app ---------------- */

static void vls_init_locks(void) {
  rw_init(&vlsm.pool_lock);
  rw_init(&vlsm.spool_lock);
  rw_init(&vlsm.map_lock);
  spin_init(&vlsm.rpc_lock);
  pthread_mutex_init(&vlsm.mq_mlock, 0);
}

int vls_app_init(int mode, int rpc_timeout_ms) {
  if (mode < VLSB_MODE_SINGLE || mode > VLSB_MODE_PROCESS)
    return -EINVAL;
  pthread_once(&thread_exit_key_once, make_exit_key);
  int rv = counters_map();
  if (rv)
    return rv;
  counters_reset();
  memset(vlsm.sh_to_vlsh, 0, sizeof vlsm.sh_to_vlsh);
  memset(vlsm.sh_to_vlsh_len, 0, sizeof vlsm.sh_to_vlsh_len);
  vlsm.mode = mode;
  vlsm.rpc_timeout_ms = rpc_timeout_ms > 0 ? rpc_timeout_ms : 3000;
  vls_init_locks();
  vcl_set_msg_handler(on_msg);
  if (mode == VLSB_MODE_PROCESS && (rv = vls_fork_init()) < 0)
    return rv;
  int w = vcl_worker_alloc(mode == VLSB_MODE_PROCESS ? vls_fork_reserve_index() : -1);
  if (w < 0)
    return w;
  vlsm.main_wrk = (uint32_t)w;
  vls_epoch++;
  vls_tl_epoch = vls_epoch;
  vls_tl_wrk = w;
  lock_slot = atomic_fetch_add(&lock_slot_next, 1) % LOCK_SLOTS;
  atomic_store(&vlsm.n_threads, 1);
  vlsm.initialized = 1;
  pthread_setspecific(thread_exit_key, (void *)1);
  return 0;
}

int vls_app_fini(void) {
  if (!vlsm.initialized)
    return 0;
  if (vlsm.mode == VLSB_MODE_PROCESS)
    vls_fork_fini();
  vlsm.initialized = 0;
  for (uint32_t w = 0; w < VCL_MAX_WORKERS; w++) {
    vcl_worker_free(w, 1);
    free(vlsm.sh_to_vlsh[w]);
    vlsm.sh_to_vlsh[w] = 0;
    vlsm.sh_to_vlsh_len[w] = 0;
  }
  for (uint32_t c = 0; c < VLS_MAX_CHUNKS; c++) {
    free(vlsm.chunks[c]);
    vlsm.chunks[c] = 0;
  }
  free(vlsm.free_idx);
  vlsm.free_idx = 0;
  vlsm.n_alloc = vlsm.n_free = vlsm.n_live = 0;
  vls_tl_wrk = -1;
  atomic_store(&vlsm.n_threads, 0);
  return 0;
}

/* ---------------- session calls ---------------- */

/* Allocates the VLS session for a new VCL session of worker w, whose fd and
 * O_NONBLOCK the caller read while it could. */
static int vls_new(uint32_t w, uint32_t sidx, uint32_t sgen, int fd, int nonblocking) {
  int lk = locks_needed();
  if (lk)
    rw_wlock(&vlsm.pool_lock, LK_POOL);
  uint32_t idx;
  vls_session_t *v = pool_alloc(&idx);
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
    map_set(w, sidx, h);
  return h;
}

/* Runs a pool-changing VCL op under the SPOOL guard without a session. */
static void spool_begin(call_t *c) {
  memset(c, 0, sizeof *c);
  c->dlock = (uint8_t)locks_needed(); /* only records that locking is on */
  if (vlsm.mode != VLSB_MODE_THREAD && c->dlock)
    acq_mode_locks(c, OP_SPOOL);
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
  c.dlock = (uint8_t)locks_needed();
  if (c.dlock)
    rw_rlock(&vlsm.pool_lock, LK_POOL);
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
    send_cleanup_rpcs(v, w);
    map_del(w, sidx);
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
    pool_free(v, idx);
  if (lk)
    rw_wunlock(&vlsm.pool_lock);
  return rv;
}

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
  /* Bad epoll handle: EBADFD with the pool lock released (spec 6). */
  if ((rv = get_w_dlock(&c, ep)) < 0)
    return rv;
  if (vlsm.mode == VLSB_MODE_THREAD && c.v->vcl_wrk != (uint32_t)vls_tl_wrk && (rv = migrate(&c)) < 0)
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

/* The forked child's copies of the locks may be held by threads that do not
 * exist in it: start them afresh (spec 5, child after fork). */
void vls_reinit_locks_after_fork(void) { vls_init_locks(); }
