/*
 * vls_fork.c - process mode of the embedded VLS model.
 *
 * Shared data (owner, subscribers, listener bitmaps) and the worker-index
 * registry live in one MAP_SHARED region mapped at app init, with
 * process-shared spinlocks (plain atomics), so every forked worker sees them.
 * Fork is intercepted with pthread_atfork: prepare (parent) shares every
 * session and reserves the child's worker index; the child moves the
 * inherited pool into its own worker, re-creates its epoll sets, and marks
 * inherited listeners LISTEN_NO_MQ; the parent waits until the child is
 * ready and records it. SIGCHLD only queues the dead child's worker; the
 * cleanup runs at the end of the next epoll_wait, or at exit.
 */

#include "vls_fork.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "counters.h"
#include "vlsb.h"

#define MAX_SHARED 8192

typedef struct {
  spinlock_t lock;
  int32_t in_use;
  uint32_t owner;
  uint64_t subscribers; /* bit per worker */
  uint64_t listeners;   /* workers actively listening */
  uint64_t stopped;     /* workers whose listening was stopped */
} shared_data_t;

typedef struct {
  spinlock_t pool_lock;
  shared_data_t sd[MAX_SHARED];
  spinlock_t reg_lock;
  int32_t reg_pid[VCL_MAX_WORKERS]; /* 0 free, -1 reserved for a fork */
  atomic_int reg_ready[VCL_MAX_WORKERS];
  atomic_uint stop_gen;
} fork_shm_t;

static fork_shm_t *fsh;

/* Parent-side record of forked children (read by the signal handler). */
typedef struct {
  volatile pid_t pid;
  volatile uint32_t wrk;
  volatile int live;
  atomic_int pending;
} child_t;
static child_t children[VCL_MAX_WORKERS];
static atomic_int sigchld_seen;
static struct sigaction prev_sa;
static atomic_int intercepted;
static int atfork_registered;
static int forking_idx = -1;
static int forking_locked;
static unsigned seen_stop_gen;

#define BIT(w) (1ull << (w))

/* ---------------- registry ---------------- */

static int reg_take(pid_t pid) {
  spin_lock(&fsh->reg_lock, LK_SHARED);
  int idx = -ENOSPC;
  for (int i = 0; i < VCL_MAX_WORKERS; i++)
    if (fsh->reg_pid[i] == 0) {
      fsh->reg_pid[i] = pid;
      atomic_store(&fsh->reg_ready[i], 0);
      idx = i;
      break;
    }
  spin_unlock(&fsh->reg_lock);
  return idx;
}

static void reg_release(uint32_t idx) {
  spin_lock(&fsh->reg_lock, LK_SHARED);
  fsh->reg_pid[idx] = 0;
  spin_unlock(&fsh->reg_lock);
}

static int reg_count(void) {
  int n = 0;
  for (int i = 0; i < VCL_MAX_WORKERS; i++)
    n += fsh->reg_pid[i] != 0;
  return n;
}

int vls_fork_reserve_index(void) { return fsh ? reg_take(getpid()) : -1; }

/* ---------------- shared data ---------------- */

static shared_data_t *sd_get(uint32_t i) { return i < MAX_SHARED && fsh->sd[i].in_use ? &fsh->sd[i] : 0; }

/* Creates shared data for v if it has none (owner: the current worker). */
static void share_session(vls_session_t *v) {
  if (v->shared_idx != VCL_INVALID)
    return;
  spin_lock(&fsh->pool_lock, LK_SHARED);
  for (uint32_t i = 0; i < MAX_SHARED; i++)
    if (!fsh->sd[i].in_use) {
      shared_data_t *sd = &fsh->sd[i];
      spin_init(&sd->lock);
      sd->in_use = 1;
      sd->owner = v->vcl_wrk;
      sd->subscribers = BIT(v->vcl_wrk);
      sd->listeners = sd->stopped = 0;
      v->shared_idx = i;
      break;
    }
  spin_unlock(&fsh->pool_lock);
}

static void sd_free(uint32_t i) {
  spin_lock(&fsh->pool_lock, LK_SHARED);
  fsh->sd[i].in_use = 0;
  spin_unlock(&fsh->pool_lock);
}

/* Removes worker w from sd; ownership passes to the first remaining
 * subscriber. Returns the subscribers left. Caller holds sd->lock. */
static uint64_t sd_leave(shared_data_t *sd, uint32_t w) {
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
      atomic_fetch_add(&fsh->stop_gen, 1);
    }
  }
  spin_unlock(&sd->lock);
}

int vls_fork_unshare(vls_session_t *v, vcl_worker_t *w, uint32_t sidx) {
  shared_data_t *sd = sd_get(v->shared_idx);
  if (sd) {
    spin_lock(&sd->lock, LK_SHARED);
    uint64_t left = sd_leave(sd, w->index);
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
  unsigned g = atomic_load(&fsh->stop_gen);
  if (g == seen_stop_gen)
    return;
  seen_stop_gen = g;
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

/* ---------------- SIGCHLD ---------------- */

static void on_sigchld(int sig, siginfo_t *si, void *uc) {
  int saved = errno;
  /* Restore the previous handler first, and only queue: the cleanup needs
   * locks (malloc, ours) that the interrupted code may hold. */
  sigaction(SIGCHLD, &prev_sa, 0);
  atomic_store(&intercepted, 0);
  atomic_store(&sigchld_seen, 1);
  for (int i = 0; i < VCL_MAX_WORKERS; i++)
    if (children[i].live && si && children[i].pid == si->si_pid)
      atomic_store(&children[i].pending, 1);
  if (prev_sa.sa_flags & SA_SIGINFO) {
    if (prev_sa.sa_sigaction)
      prev_sa.sa_sigaction(sig, si, uc);
  } else if (prev_sa.sa_handler != SIG_DFL && prev_sa.sa_handler != SIG_IGN) {
    prev_sa.sa_handler(sig);
  }
  errno = saved;
}

static void intercept_sigchld(void) {
  if (atomic_load(&intercepted))
    return;
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sigchld;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGCHLD, &sa, &old) == 0) {
    /* Never record ourselves as the previous handler. */
    if (!((old.sa_flags & SA_SIGINFO) && old.sa_sigaction == on_sigchld))
      prev_sa = old;
    atomic_store(&intercepted, 1);
  }
}

static void cleanup_child(child_t *c) {
  uint32_t w = c->wrk;
  for (uint32_t i = 0; i < MAX_SHARED; i++) {
    shared_data_t *sd = &fsh->sd[i];
    if (!sd->in_use || !(sd->subscribers & BIT(w)))
      continue;
    spin_lock(&sd->lock, LK_SHARED);
    sd_leave(sd, w);
    /* A listener nobody accepts on any more goes back to its owner. */
    if (sd->stopped & BIT(sd->owner) && !(sd->listeners & ~BIT(sd->owner))) {
      sd->stopped &= ~BIT(sd->owner);
    }
    spin_unlock(&sd->lock);
  }
  reg_release(w);
  c->live = 0;
  __atomic_fetch_add(&cnt->child_cleanups, 1, __ATOMIC_RELAXED);
}

/* Restarts the parent's own listeners that a dead child had stopped. */
static void restart_own_listeners(void) {
  vcl_worker_t *w = vcl_worker_get(vlsm.main_wrk);
  for (uint32_t i = 0; w && i < vlsm.n_alloc; i++) {
    vls_session_t *v = vls_at(i);
    if (!atomic_load(&v->in_use) || v->shared_idx == VCL_INVALID)
      continue;
    shared_data_t *sd = sd_get(v->shared_idx);
    vcl_session_t *s = vcl_session_get(w, v->session_index);
    if (sd && s && s->state == VCL_S_LISTEN_NO_MQ && !(sd->stopped & BIT(w->index)) &&
        sd->owner == w->index)
      s->state = VCL_S_LISTEN;
  }
}

/* Cleans c up if its process is gone (reaped now, or by someone else). */
static int clean_if_exited(child_t *c) {
  int st;
  pid_t r = waitpid(c->pid, &st, WNOHANG);
  if (r == c->pid || (r < 0 && errno == ECHILD)) {
    cleanup_child(c);
    return 1;
  }
  return 0;
}

int vls_fork_handle_pending_cleanup(void) {
  if (!fsh || !atomic_exchange(&sigchld_seen, 0))
    return 0;
  int n = 0, alive = 0;
  for (int i = 0; i < VCL_MAX_WORKERS; i++) {
    child_t *c = &children[i];
    if (!c->live)
      continue;
    int gone = clean_if_exited(c);
    /* Signalled but not yet reapable: give it ~50 ms. */
    for (int k = 0; !gone && atomic_load(&c->pending) && k < 50; k++) {
      struct timespec ts = {0, 1000000};
      nanosleep(&ts, 0);
      gone = clean_if_exited(c);
    }
    if (gone)
      n++;
    else
      alive++;
    atomic_store(&c->pending, 0);
  }
  if (alive) {
    intercept_sigchld();
    /* A child that exited between its waitpid above and this re-arm sent
     * its SIGCHLD to the previous handler only, so nothing would queue
     * its cleanup: look once more now that ours is armed again (seen in
     * 1 of ~30 CI runs of conformance 07 as "cleanups 2" of 3). */
    for (int i = 0; i < VCL_MAX_WORKERS; i++)
      if (children[i].live)
        n += clean_if_exited(&children[i]);
  }
  if (n)
    restart_own_listeners();
  return n;
}

int vls_fork_reap(void) {
  if (!fsh)
    return 0;
  atomic_store(&sigchld_seen, 1);
  return vls_fork_handle_pending_cleanup();
}

/* ---------------- fork handlers ---------------- */

static void on_prepare(void) {
  if (!vlsm.initialized || vlsm.mode != VLSB_MODE_PROCESS || !fsh)
    return;
  intercept_sigchld();
  vcl_worker_t *w = vcl_worker_get(vlsm.main_wrk);
  if (w)
    vcl_mq_drain(w);
  forking_locked = atomic_load(&vlsm.n_threads) > 1;
  if (forking_locked)
    rw_wlock(&vlsm.pool_lock, LK_POOL);
  for (uint32_t i = 0; i < vlsm.n_alloc; i++) {
    vls_session_t *v = vls_at(i);
    if (atomic_load(&v->in_use))
      share_session(v);
  }
  forking_idx = reg_take(-1);
}

static void on_parent(void) {
  if (!vlsm.initialized || vlsm.mode != VLSB_MODE_PROCESS || !fsh)
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
  while (!atomic_load(&fsh->reg_ready[idx]) && rt_now_ns() < deadline) {
    struct timespec ts = {0, 100000};
    nanosleep(&ts, 0);
  }
  if (!atomic_load(&fsh->reg_ready[idx])) {
    reg_release((uint32_t)idx);
    return;
  }
  for (int i = 0; i < VCL_MAX_WORKERS; i++)
    if (!children[i].live) {
      children[i].pid = fsh->reg_pid[idx];
      children[i].wrk = (uint32_t)idx;
      atomic_store(&children[i].pending, 0);
      children[i].live = 1;
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
  if (!vlsm.initialized || vlsm.mode != VLSB_MODE_PROCESS || !fsh)
    return;
  int idx = forking_idx;
  forking_idx = -1;
  if (idx < 0)
    return;
  /* The child's copies of the parent's state: locks re-initialised, no
   * children of its own, the caller's SIGCHLD disposition back. */
  vls_reinit_locks_after_fork();
  forking_locked = 0;
  memset(children, 0, sizeof children);
  if (atomic_load(&intercepted)) {
    sigaction(SIGCHLD, &prev_sa, 0);
    atomic_store(&intercepted, 0);
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
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 1ull << 32};
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
  seen_stop_gen = atomic_load(&fsh->stop_gen);
  cnt->wrk[idx] = (wrk_counters_t){.used = 1, .pid = (int32_t)getpid()};
  fsh->reg_pid[idx] = (int32_t)getpid();
  atomic_store(&fsh->reg_ready[idx], 1);
}

int vls_fork_init(void) {
  if (!fsh) {
    void *p = mmap(0, sizeof *fsh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      return -errno;
    fsh = p;
  }
  memset(fsh, 0, sizeof *fsh);
  memset(children, 0, sizeof children);
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
  if (!fsh)
    return;
  vls_fork_reap();
  vcl_worker_t *w = vcl_worker_get(vlsm.main_wrk);
  for (uint32_t i = 0; w && i < vlsm.n_alloc; i++) {
    vls_session_t *v = vls_at(i);
    if (atomic_load(&v->in_use) && v->shared_idx != VCL_INVALID && v->vcl_wrk == w->index)
      vls_fork_unshare(v, w, v->session_index);
  }
  reg_release(vlsm.main_wrk);
  if (atomic_load(&intercepted)) {
    sigaction(SIGCHLD, &prev_sa, 0);
    atomic_store(&intercepted, 0);
  }
}
