/*
 * vls_fork_shared.c - the MAP_SHARED region of process mode: the
 * worker-index registry and each session's shared data (owner,
 * subscribers, listener bitmaps) behind process-shared spinlocks (plain
 * atomics), and the listener checks on accept and epoll_ctl that use them.
 */

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "counters.h"
#include "vls_fork_shared.h"

fork_shm_t *vls_fsh;
unsigned vls_seen_stop_gen;

/* ---------------- registry ---------------- */

int vls_reg_take(pid_t pid) {
  spin_lock(&vls_fsh->reg_lock, LK_SHARED);
  int idx = -ENOSPC;
  for (int i = 0; i < VCL_MAX_WORKERS; i++)
    if (vls_fsh->reg_pid[i] == 0) {
      vls_fsh->reg_pid[i] = pid;
      atomic_store(&vls_fsh->reg_ready[i], 0);
      idx = i;
      break;
    }
  spin_unlock(&vls_fsh->reg_lock);
  return idx;
}

void vls_reg_release(uint32_t idx) {
  spin_lock(&vls_fsh->reg_lock, LK_SHARED);
  vls_fsh->reg_pid[idx] = 0;
  spin_unlock(&vls_fsh->reg_lock);
}

static int reg_count(void) {
  int n = 0;
  for (int i = 0; i < VCL_MAX_WORKERS; i++)
    n += vls_fsh->reg_pid[i] != 0;
  return n;
}

int vls_fork_reserve_index(void) { return vls_fsh ? vls_reg_take(getpid()) : -1; }

/* ---------------- shared data ---------------- */


/* Creates shared data for v if it has none (owner: the current worker). */
void vls_share_session(vls_session_t *v) {
  if (v->shared_idx != VCL_INVALID)
    return;
  spin_lock(&vls_fsh->pool_lock, LK_SHARED);
  for (uint32_t i = 0; i < MAX_SHARED; i++)
    if (!vls_fsh->sd[i].in_use) {
      shared_data_t *sd = &vls_fsh->sd[i];
      spin_init(&sd->lock);
      sd->in_use = 1;
      sd->owner = v->vcl_wrk;
      sd->subscribers = BIT(v->vcl_wrk);
      sd->listeners = sd->stopped = 0;
      v->shared_idx = i;
      break;
    }
  spin_unlock(&vls_fsh->pool_lock);
}

static void sd_free(uint32_t i) {
  spin_lock(&vls_fsh->pool_lock, LK_SHARED);
  vls_fsh->sd[i].in_use = 0;
  spin_unlock(&vls_fsh->pool_lock);
}

/* Removes worker w from sd; ownership passes to the first remaining
 * subscriber. Returns the subscribers left. Caller holds sd->lock. */
uint64_t vls_sd_leave(shared_data_t *sd, uint32_t w) {
  sd->subscribers &= ~BIT(w);
  sd->listeners &= ~BIT(w);
  sd->stopped &= ~BIT(w);
  if (sd->owner == w && sd->subscribers)
    sd->owner = (uint32_t)__builtin_ctzll(sd->subscribers);
  return sd->subscribers;
}

/* Listener checks on accept and epoll_ctl ADD/DEL (spec 5). */
void vls_fork_mp_check(vls_session_t *v, vcl_worker_t *w, uint32_t sidx, int is_add) {
  vcl_session_t *s = vcl_session_get(w, sidx);
  if (!s || reg_count() < 2)
    return;
  if (s->state != VCL_S_LISTEN && s->state != VCL_S_LISTEN_NO_MQ)
    return;
  shared_data_t *sd = v->shared_idx == VCL_INVALID ? 0 : sd_get(v->shared_idx);
  if (!sd)
    return;
  spin_lock(&sd->lock, LK_SHARED);
  if (s->state == VCL_S_LISTEN) {
    /* DEL does nothing: stopping churns and cannot drain the accept queue
     * (nginx removes and re-adds listeners constantly). ADD makes this
     * worker active, which also cancels a stop not yet applied to it. */
    if (is_add) {
      sd->listeners |= BIT(w->index);
      sd->stopped &= ~BIT(w->index);
    }
  } else if (is_add) {
    s->state = VCL_S_LISTEN;
    sd->listeners |= BIT(w->index);
    sd->stopped &= ~BIT(w->index);
    CNT_INC(w->index, listener_starts);
    if (!(sd->listeners & BIT(sd->owner)) && sd->owner != w->index) {
      /* The owner never accepts on it: stop its listening so accepts do not
       * pile up there. It notices at its next poll. */
      sd->stopped |= BIT(sd->owner);
      atomic_fetch_add(&vls_fsh->stop_gen, 1);
    }
  }
  spin_unlock(&sd->lock);
}

int vls_fork_unshare(vls_session_t *v, vcl_worker_t *w, uint32_t sidx) {
  shared_data_t *sd = sd_get(v->shared_idx);
  if (sd) {
    spin_lock(&sd->lock, LK_SHARED);
    uint64_t left = vls_sd_leave(sd, w->index);
    spin_unlock(&sd->lock);
    if (!left)
      sd_free(v->shared_idx);
    v->shared_idx = VCL_INVALID;
  }
  /* The kernel socket lives on while another process holds its fd. */
  return vcl_close(w, sidx);
}

/* The owner whose listening was stopped by a child stops delivering accepts
 * from it: LISTEN_NO_MQ, out of its epoll set. */
void vls_fork_before_harvest(vcl_worker_t *w) {
  unsigned g = atomic_load(&vls_fsh->stop_gen);
  if (g == vls_seen_stop_gen)
    return;
  vls_seen_stop_gen = g;
  for (uint32_t i = 0; i < vlsm.n_alloc; i++) {
    vls_session_t *v = vls_at(i);
    if (!atomic_load(&v->in_use) || v->vcl_wrk != w->index || v->shared_idx == VCL_INVALID)
      continue;
    shared_data_t *sd = sd_get(v->shared_idx);
    vcl_session_t *s = vcl_session_get(w, v->session_index);
    /* A worker that is active on the listener keeps it, whatever was asked. */
    if (!sd || !s || s->state != VCL_S_LISTEN || !(sd->stopped & BIT(w->index)) || (sd->listeners & BIT(w->index)))
      continue;
    if (s->flags & VCL_F_IN_VEP)
      vcl_epoll_ctl(w, s->vep_idx, EPOLL_CTL_DEL, v->session_index, 0, 0);
    s->state = VCL_S_LISTEN_NO_MQ;
  }
}

