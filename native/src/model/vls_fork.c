/*
 * vls_fork.c - process mode of the embedded VLS model.
 *
 * Shared data (owner, subscribers, listener bitmaps) and the worker-index
 * registry live in one MAP_SHARED region mapped at app init, with
 * process-shared spinlocks (plain atomics), so every forked worker sees them
 * (vls_fork_shared.c).
 * Fork is intercepted with pthread_atfork: prepare (parent) shares every
 * session and reserves the child's worker index; the child moves the
 * inherited pool into its own worker, re-creates its epoll sets, and marks
 * inherited listeners LISTEN_NO_MQ; the parent waits until the child is
 * ready and records it. SIGCHLD only queues the dead child's worker; the
 * cleanup runs at the end of the next epoll_wait, or at exit
 * (vls_fork_sigchld.c). This file: the fork handlers, init and fini.
 */

#include "vls_fork.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "counters.h"
#include "vls_fork_shared.h"
#include "vlsb.h"

static int atfork_registered;
static int forking_idx = -1;
static int forking_locked;

/* ---------------- fork handlers ---------------- */

static void on_prepare(void) {
  if (!vlsm.initialized || vlsm.mode != VLSB_MODE_PROCESS || !vls_fsh)
    return;
  vls_intercept_sigchld();
  vcl_worker_t *w = vcl_worker_get(vlsm.main_wrk);
  if (w)
    vcl_mq_drain(w);
  forking_locked = atomic_load(&vlsm.n_threads) > 1;
  if (forking_locked)
    rw_wlock(&vlsm.pool_lock, LK_POOL);
  for (uint32_t i = 0; i < vlsm.n_alloc; i++) {
    vls_session_t *v = vls_at(i);
    if (atomic_load(&v->in_use))
      vls_share_session(v);
  }
  forking_idx = vls_reg_take(-1);
}

static void on_parent(void) {
  if (!vlsm.initialized || vlsm.mode != VLSB_MODE_PROCESS || !vls_fsh)
    return;
  if (forking_locked)
    rw_wunlock(&vlsm.pool_lock);
  forking_locked = 0;
  int idx = forking_idx;
  forking_idx = -1;
  if (idx < 0)
    return;
  /* Spin until the child says its worker is ready (bounded: a failed fork
   * never answers). */
  double deadline = rt_now_ns() + 5e9;
  while (!atomic_load(&vls_fsh->reg_ready[idx]) && rt_now_ns() < deadline) {
    struct timespec ts = {0, 100000};
    nanosleep(&ts, 0);
  }
  if (!atomic_load(&vls_fsh->reg_ready[idx])) {
    vls_reg_release((uint32_t)idx);
    return;
  }
  for (int i = 0; i < VCL_MAX_WORKERS; i++)
    if (!vls_children[i].live) {
      vls_children[i].pid = vls_fsh->reg_pid[idx];
      vls_children[i].wrk = (uint32_t)idx;
      atomic_store(&vls_children[i].pending, 0);
      vls_children[i].live = 1;
      break;
    }
  __atomic_fetch_add(&cnt->forks, 1, __ATOMIC_RELAXED);
}

void vls_reinit_locks_after_fork(void);

/* The child's epoll sets got new fds: the VLS cache follows. */
static void cache_refresh_after_fork(vls_session_t *v, vcl_worker_t *cw) {
  vcl_session_t *s = vcl_session_get(cw, v->session_index);
  v->cur_fd = s ? s->fd : -1;
}

static void on_child(void) {
  if (!vlsm.initialized || vlsm.mode != VLSB_MODE_PROCESS || !vls_fsh)
    return;
  int idx = forking_idx;
  forking_idx = -1;
  if (idx < 0)
    return;
  /* The child's copies of the parent's state: locks re-initialised, no
   * children of its own, the caller's SIGCHLD disposition back. */
  vls_reinit_locks_after_fork();
  forking_locked = 0;
  memset(vls_children, 0, sizeof vls_children);
  if (atomic_load(&vls_sigchld_intercepted)) {
    sigaction(SIGCHLD, &vls_prev_sigchld, 0);
    atomic_store(&vls_sigchld_intercepted, 0);
  }
  uint32_t p = vlsm.main_wrk;
  vcl_worker_t *pw = &vcl_workers[p], *cw = &vcl_workers[idx];
  int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  /* Move the inherited pool into the child's own worker. */
  *cw = *pw;
  cw->index = (uint32_t)idx;
  cw->pid = getpid();
  cw->mq_efd = efd;
  cw->mq_head = cw->mq_tail = 0;
  pthread_mutex_init(&cw->mq_lock, 0);
  pthread_mutex_init(&cw->rpc.lock, 0);
  close(pw->mq_efd);
  memset(pw, 0, sizeof *pw);
  /* Epoll sets: the inherited kernel epoll instances are the parent's own;
   * make new ones with the same members, listeners excepted (not started
   * for this worker yet). */
  for (uint32_t i = 0; i < cw->n_sessions; i++) {
    vcl_session_t *s = &cw->sessions[i];
    if (s->state == VCL_S_LISTEN)
      s->state = VCL_S_LISTEN_NO_MQ;
    if (s->state != VCL_S_VEP)
      continue;
    close(s->fd);
    s->fd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = VCL_MQ_MARK};
    epoll_ctl(s->fd, EPOLL_CTL_ADD, efd, &ev);
    s->vep_n = 0;
  }
  for (uint32_t i = 0; i < cw->n_sessions; i++) {
    vcl_session_t *s = &cw->sessions[i];
    if (s->state == VCL_S_FREE || !(s->flags & VCL_F_IN_VEP))
      continue;
    vcl_session_t *vep = vcl_session_get(cw, s->vep_idx);
    if (s->state == VCL_S_LISTEN_NO_MQ || !vep) {
      s->flags &= (uint8_t)~VCL_F_IN_VEP;
      s->vep_idx = VCL_INVALID;
      continue;
    }
    struct epoll_event ev = {.events = s->ev_events, .data.u64 = s->ev_data};
    epoll_ctl(vep->fd, EPOLL_CTL_ADD, s->fd, &ev);
    vep->vep_n++;
  }
  /* VLS pool: every session now lives in this worker and is shared. */
  for (uint32_t i = 0; i < vlsm.n_alloc; i++) {
    vls_session_t *v = vls_at(i);
    if (!atomic_load(&v->in_use))
      continue;
    uint32_t gen = v->clone_gen[p];
    for (int k = 0; k < VCL_MAX_WORKERS; k++)
      v->clones[k] = VCL_INVALID;
    v->vcl_wrk = v->owner_wrk = (uint32_t)idx;
    v->clones[idx] = v->session_index;
    v->clone_gen[idx] = gen;
    cache_refresh_after_fork(v, cw);
    shared_data_t *sd = sd_get(v->shared_idx);
    if (sd) {
      spin_lock(&sd->lock, LK_SHARED);
      sd->subscribers |= BIT(idx);
      spin_unlock(&sd->lock);
    }
  }
  vlsm.main_wrk = (uint32_t)idx;
  vls_tl_wrk = idx;
  atomic_store(&vlsm.n_threads, 1);
  vls_seen_stop_gen = atomic_load(&vls_fsh->stop_gen);
  cnt->wrk[idx] = (wrk_counters_t){.used = 1, .pid = (int32_t)getpid()};
  vls_fsh->reg_pid[idx] = (int32_t)getpid();
  atomic_store(&vls_fsh->reg_ready[idx], 1);
}

int vls_fork_init(void) {
  if (!vls_fsh) {
    void *p = mmap(0, sizeof *vls_fsh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      return -errno;
    vls_fsh = p;
  }
  memset(vls_fsh, 0, sizeof *vls_fsh);
  memset(vls_children, 0, sizeof vls_children);
  if (!atfork_registered) {
    int rv = pthread_atfork(on_prepare, on_parent, on_child);
    if (rv)
      return -rv;
    atfork_registered = 1;
  }
  return 0;
}

/* At exit: pending child cleanups first, then leave every shared session. */
void vls_fork_fini(void) {
  if (!vls_fsh)
    return;
  vls_fork_reap();
  vcl_worker_t *w = vcl_worker_get(vlsm.main_wrk);
  for (uint32_t i = 0; w && i < vlsm.n_alloc; i++) {
    vls_session_t *v = vls_at(i);
    if (atomic_load(&v->in_use) && v->shared_idx != VCL_INVALID && v->vcl_wrk == w->index)
      vls_fork_unshare(v, w, v->session_index);
  }
  vls_reg_release(vlsm.main_wrk);
  if (atomic_load(&vls_sigchld_intercepted)) {
    sigaction(SIGCHLD, &vls_prev_sigchld, 0);
    atomic_store(&vls_sigchld_intercepted, 0);
  }
}
