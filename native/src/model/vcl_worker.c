/*
 * vcl_worker.c - the embedded VCL's workers (one per thread in thread mode,
 * per process otherwise) and their session pools. Not thread-safe by
 * construction (see vcl.h); the worker table itself is guarded by
 * vcl_workers_lock.
 */

#include "vcl.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "counters.h"

vcl_worker_t vcl_workers[VCL_MAX_WORKERS];
static pthread_mutex_t vcl_workers_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---------------- workers ---------------- */

/* The RPC result slots' locks are initialised once and never again: see
 * vcl_worker_alloc. */
_Static_assert(offsetof(vcl_worker_t, rpc) + sizeof(vcl_rpc_result_t) == sizeof(vcl_worker_t),
               "the RPC result slot must stay the worker's last member");
static pthread_once_t rpc_locks_once = PTHREAD_ONCE_INIT;
static void rpc_locks_init(void) {
  for (int i = 0; i < VCL_MAX_WORKERS; i++)
    pthread_mutex_init(&vcl_workers[i].rpc.lock, 0);
}

int vcl_worker_alloc(int want) {
  pthread_once(&rpc_locks_once, rpc_locks_init);
  pthread_mutex_lock(&vcl_workers_lock);
  int idx = -1;
  if (want >= 0 && want < VCL_MAX_WORKERS && !atomic_load(&vcl_workers[want].in_use))
    idx = want;
  for (int i = 0; want < 0 && i < VCL_MAX_WORKERS; i++)
    if (!atomic_load(&vcl_workers[i].in_use)) {
      idx = i;
      break;
    }
  if (idx < 0) {
    pthread_mutex_unlock(&vcl_workers_lock);
    return -ENOSPC;
  }
  vcl_worker_t *w = &vcl_workers[idx];
  int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0) {
    pthread_mutex_unlock(&vcl_workers_lock);
    return -errno;
  }
  /* Everything but the RPC result slot (the last member). An owner may
   * still hold a clone request this index sent before it was freed (timed
   * out, not yet drained) and answer it at any time: the slot's lock must
   * stay valid (the owner may hold it now), and its sequence number must
   * not restart, or that late answer would match the first request of the
   * thread that reuses the index (a wrong session cloned, its dup'ed fd
   * leaked). */
  memset(w, 0, offsetof(vcl_worker_t, rpc));
  w->index = (uint32_t)idx;
  w->pid = getpid();
  w->mq_efd = efd;
  pthread_mutex_init(&w->mq_lock, 0);
  pthread_mutex_lock(&w->rpc.lock);
  w->rpc.seq++; /* discards any answer still to come for the old user */
  atomic_store(&w->rpc.state, VCL_RPC_INIT);
  pthread_mutex_unlock(&w->rpc.lock);
  atomic_store(&w->in_use, 1);
  __atomic_store_n(&cnt->wrk[idx].used, 1, __ATOMIC_RELAXED); /* read by the counters JSON */
  __atomic_store_n(&cnt->wrk[idx].pid, (int32_t)w->pid, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&vcl_workers_lock);
  return idx;
}

void vcl_worker_free(uint32_t wrk_index, int close_sessions) {
  vcl_worker_t *w = vcl_worker_get(wrk_index);
  if (!w)
    return;
  /* Answer what is still queued so no requester waits for a dead worker. */
  vcl_mq_drain(w);
  if (close_sessions)
    for (uint32_t i = 0; i < w->n_sessions; i++)
      if (w->sessions[i].state != VCL_S_FREE)
        vcl_close(w, i);
  pthread_mutex_lock(&vcl_workers_lock);
  pthread_mutex_lock(&w->mq_lock); /* no vcl_mq_send is signalling the eventfd now */
  atomic_store(&w->in_use, 0);
  close(w->mq_efd);
  w->mq_efd = -1;
  pthread_mutex_unlock(&w->mq_lock);
  free(w->sessions);
  free(w->free_idx);
  w->sessions = 0;
  w->free_idx = 0;
  w->n_sessions = w->cap = w->n_free = 0;
  pthread_mutex_unlock(&vcl_workers_lock);
}

/* ---------------- session pool ---------------- */

vcl_session_t *vcl_session_alloc(vcl_worker_t *wrk, uint32_t *idx_out) {
  uint32_t idx;
  if (wrk->n_free) {
    idx = wrk->free_idx[--wrk->n_free];
  } else {
    if (wrk->n_sessions == wrk->cap) {
      uint32_t ncap = wrk->cap ? wrk->cap * 2 : 64;
      vcl_session_t *ns = realloc(wrk->sessions, ncap * sizeof *ns);
      if (!ns)
        return 0;
      uint32_t *nf = realloc(wrk->free_idx, ncap * sizeof *nf);
      if (!nf) {
        wrk->sessions = ns;
        return 0;
      }
      wrk->sessions = ns;
      wrk->free_idx = nf;
      memset(ns + wrk->cap, 0, (ncap - wrk->cap) * sizeof *ns);
      wrk->cap = ncap;
    }
    idx = wrk->n_sessions++;
  }
  vcl_session_t *s = &wrk->sessions[idx];
  uint32_t gen = s->gen;
  memset(s, 0, sizeof *s);
  s->gen = gen;
  s->fd = -1;
  s->vep_idx = VCL_INVALID;
  s->state = VCL_S_CLOSED;
  *idx_out = idx;
  return s;
}

void vcl_session_free(vcl_worker_t *wrk, uint32_t idx) {
  vcl_session_t *s = vcl_session_get(wrk, idx);
  if (!s)
    return;
  s->state = VCL_S_FREE;
  s->gen++;
  s->fd = -1;
  wrk->free_idx[wrk->n_free++] = idx;
}

