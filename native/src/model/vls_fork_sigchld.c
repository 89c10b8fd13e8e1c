/*
 * vls_fork_sigchld.c - process mode: SIGCHLD only queues a dead child's
 * worker; the cleanup (its shared data left, its worker index freed, the
 * parent's stopped listeners restarted) runs at the end of the next
 * epoll_wait, on vlsb_reap_children, or at exit.
 */

#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "counters.h"
#include "vls_fork_shared.h"
#include "vlsb.h"

vls_child_t vls_children[VCL_MAX_WORKERS];
struct sigaction vls_prev_sigchld;
atomic_int vls_sigchld_intercepted;
static atomic_int sigchld_seen;

/* ---------------- SIGCHLD ---------------- */

static void on_sigchld(int sig, siginfo_t *si, void *uc) {
  int saved = errno;
  /* Restore the previous handler first, and only queue: the cleanup needs
   * locks (malloc, ours) that the interrupted code may hold. */
  sigaction(SIGCHLD, &vls_prev_sigchld, 0);
  atomic_store(&vls_sigchld_intercepted, 0);
  atomic_store(&sigchld_seen, 1);
  for (int i = 0; i < VCL_MAX_WORKERS; i++)
    if (vls_children[i].live && si && vls_children[i].pid == si->si_pid)
      atomic_store(&vls_children[i].pending, 1);
  if (vls_prev_sigchld.sa_flags & SA_SIGINFO) {
    if (vls_prev_sigchld.sa_sigaction)
      vls_prev_sigchld.sa_sigaction(sig, si, uc);
  } else if (vls_prev_sigchld.sa_handler != SIG_DFL && vls_prev_sigchld.sa_handler != SIG_IGN) {
    vls_prev_sigchld.sa_handler(sig);
  }
  errno = saved;
}

void vls_intercept_sigchld(void) {
  if (atomic_load(&vls_sigchld_intercepted))
    return;
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sigchld;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGCHLD, &sa, &old) == 0) {
    /* Never record ourselves as the previous handler. */
    if (!((old.sa_flags & SA_SIGINFO) && old.sa_sigaction == on_sigchld))
      vls_prev_sigchld = old;
    atomic_store(&vls_sigchld_intercepted, 1);
  }
}

static void cleanup_child(vls_child_t *c) {
  uint32_t w = c->wrk;
  for (uint32_t i = 0; i < MAX_SHARED; i++) {
    shared_data_t *sd = &vls_fsh->sd[i];
    if (!sd->in_use || !(sd->subscribers & BIT(w)))
      continue;
    spin_lock(&sd->lock, LK_SHARED);
    vls_sd_leave(sd, w);
    /* A listener nobody accepts on any more goes back to its owner. */
    if (sd->stopped & BIT(sd->owner) && !(sd->listeners & ~BIT(sd->owner))) {
      sd->stopped &= ~BIT(sd->owner);
    }
    spin_unlock(&sd->lock);
  }
  vls_reg_release(w);
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
static int clean_if_exited(vls_child_t *c) {
  int st;
  pid_t r = waitpid(c->pid, &st, WNOHANG);
  if (r == c->pid)
    rt_child_exit_note(c->pid, st);
  if (r == c->pid || (r < 0 && errno == ECHILD)) {
    cleanup_child(c);
    return 1;
  }
  return 0;
}

int vls_fork_handle_pending_cleanup(void) {
  if (!vls_fsh || !atomic_exchange(&sigchld_seen, 0))
    return 0;
  int n = 0, alive = 0;
  for (int i = 0; i < VCL_MAX_WORKERS; i++) {
    vls_child_t *c = &vls_children[i];
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
    vls_intercept_sigchld();
    /* A child that exited between its waitpid above and this re-arm sent
     * its SIGCHLD to the previous handler only, so nothing would queue
     * its cleanup: look once more now that ours is armed again (seen in
     * 1 of ~30 CI runs of conformance 07 as "cleanups 2" of 3). */
    for (int i = 0; i < VCL_MAX_WORKERS; i++)
      if (vls_children[i].live)
        n += clean_if_exited(&vls_children[i]);
  }
  if (n)
    restart_own_listeners();
  return n;
}

int vls_fork_reap(void) {
  if (!vls_fsh)
    return 0;
  atomic_store(&sigchld_seen, 1);
  return vls_fork_handle_pending_cleanup();
}

