/*
 * vls.c - VCL Locked Sessions over the embedded VCL layer: the VLS session
 * pool, the thread-mode handle map, thread detection and the app, as
 * docs/architecture.md describes the VLS design. The call guard is in
 * vls_call.h and vls_guard.c, migration in vls_migrate.c, the session and
 * epoll calls in vls_calls.c and vls_epoll.c, process mode (fork, shared
 * data, SIGCHLD) in vls_fork*.c.
 */

#include "vls.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "vls_call.h"
#include "vls_fork.h"
#include "vlsb.h"

vls_main_t vlsm;
_Thread_local int vls_tl_wrk = -1;
_Thread_local uint32_t vls_tl_epoch;
uint32_t vls_epoch;
static atomic_int lock_slot_next;
static pthread_key_t thread_exit_key;
static pthread_once_t thread_exit_key_once = PTHREAD_ONCE_INIT;

/* ---------------- pool ---------------- */

vls_session_t *vls_at(uint32_t idx) {
  uint32_t c = idx / VLS_CHUNK;
  if (c >= VLS_MAX_CHUNKS || !vlsm.chunks[c])
    return 0;
  return &vlsm.chunks[c][idx % VLS_CHUNK];
}

/* Caller holds the pool write lock (or is alone). */
vls_session_t *vls_pool_alloc(uint32_t *idx_out) {
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
void vls_pool_free(vls_session_t *v, uint32_t idx) {
  atomic_store(&v->in_use, 0);
  v->gen++;
  vlsm.free_idx[vlsm.n_free++] = idx;
  vlsm.n_live--;
}

/* ---------------- handle map (VCL handle -> VLS handle) ---------------- */

void vls_map_set(uint32_t wrk, uint32_t sidx, int32_t h) {
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

void vls_map_del(uint32_t wrk, uint32_t sidx) {
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
int vls_thread_add(void) {
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
        vls_pool_free(v, i);
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
  vcl_set_msg_handler(vls_on_msg);
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


/* The forked child's copies of the locks may be held by threads that do not
 * exist in it: start them afresh (spec 5, child after fork). */
void vls_reinit_locks_after_fork(void) { vls_init_locks(); }
