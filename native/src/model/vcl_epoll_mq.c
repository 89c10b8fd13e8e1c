/*
 * vcl_epoll_mq.c - the embedded VCL's epoll sets (a session holding a
 * kernel epoll fd, with the worker's mq eventfd in it), its waits (in
 * slices that notice the stop flag, serving the mq while they wait) and
 * its message queue (any thread posts, the owner drains). Not thread-safe
 * by construction (see vcl.h).
 */

#include "vcl.h"

#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "counters.h"

static vcl_msg_handler_t msg_handler;

/* A wait longer than this is cut into slices, so a stop request is seen. */
#define WAIT_SLICE_MS 100

void vcl_set_msg_handler(vcl_msg_handler_t h) { msg_handler = h; }

void vcl_vep_unlink(vcl_worker_t *wrk, vcl_session_t *s) {
  if (!(s->flags & VCL_F_IN_VEP))
    return;
  vcl_session_t *vep = vcl_session_get(wrk, s->vep_idx);
  if (vep && vep->state == VCL_S_VEP) {
    epoll_ctl(vep->fd, EPOLL_CTL_DEL, s->fd, 0);
    vep->vep_n--;
  }
  s->flags &= (uint8_t)~VCL_F_IN_VEP;
  s->vep_idx = VCL_INVALID;
}

/* ---------------- epoll sets ---------------- */

int vcl_epoll_create(vcl_worker_t *wrk, uint32_t *idx_out) {
  int efd = epoll_create1(EPOLL_CLOEXEC);
  if (efd < 0)
    return -errno;
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = VCL_MQ_MARK};
  if (epoll_ctl(efd, EPOLL_CTL_ADD, wrk->mq_efd, &ev) < 0) {
    int e = errno;
    close(efd);
    return -e;
  }
  vcl_session_t *s = vcl_session_alloc(wrk, idx_out);
  if (!s) {
    close(efd);
    return -ENOMEM;
  }
  s->fd = efd;
  s->state = VCL_S_VEP;
  return 0;
}

int vcl_epoll_ctl(vcl_worker_t *wrk, uint32_t vep_idx, int op, uint32_t idx, uint32_t events,
                  uint32_t data) {
  vcl_session_t *vep = vcl_session_get(wrk, vep_idx);
  if (!vep || vep->state != VCL_S_VEP)
    return -EBADFD;
  vcl_session_t *s = vcl_session_get(wrk, idx);
  if (!s || s->state == VCL_S_VEP || idx == vep_idx)
    return -EBADFD;
  if (s->fd < 0)
    return -EINVAL; /* nothing to wait on before bind/connect */
  struct epoll_event ev = {.events = events, .data.u64 = data};
  switch (op) {
  case EPOLL_CTL_ADD:
    if (s->flags & VCL_F_IN_VEP)
      return -EEXIST;
    /* Listeners not started for this worker are not delivered (LISTEN_NO_MQ):
     * the VLS layer starts them before adding. */
    if (epoll_ctl(vep->fd, EPOLL_CTL_ADD, s->fd, &ev) < 0)
      return -errno;
    s->flags |= VCL_F_IN_VEP;
    s->vep_idx = vep_idx;
    s->ev_events = events;
    s->ev_data = data;
    vep->vep_n++;
    return 0;
  case EPOLL_CTL_MOD:
    if (!(s->flags & VCL_F_IN_VEP) || s->vep_idx != vep_idx)
      return -ENOENT;
    if (epoll_ctl(vep->fd, EPOLL_CTL_MOD, s->fd, &ev) < 0)
      return -errno;
    s->ev_events = events;
    s->ev_data = data;
    return 0;
  case EPOLL_CTL_DEL:
    if (!(s->flags & VCL_F_IN_VEP) || s->vep_idx != vep_idx)
      return -ENOENT;
    vcl_vep_unlink(wrk, s);
    return 0;
  default:
    return -EINVAL;
  }
}

static int harvest_once(vcl_worker_t *wrk, int epfd, uint32_t *evs, int max, int wait_ms) {
  enum { BATCH = 256 };
  struct epoll_event kev[BATCH];
  int want = max < BATCH ? max : BATCH;
  CNT_INC(wrk->index, syscalls);
  CNT_INC(wrk->index, epoll_waits);
  /* One extra slot: the mq eventfd may take one. */
  int n = epoll_wait(epfd, kev, want < BATCH ? want + 1 : BATCH, wait_ms);
  if (n < 0)
    return errno == EINTR ? 0 : -errno;
  int out = 0;
  for (int i = 0; i < n; i++) {
    if (kev[i].data.u64 == VCL_MQ_MARK) {
      vcl_mq_drain(wrk);
      continue;
    }
    if (out == max)
      break; /* level-triggered: the rest is reported next time */
    evs[2 * out] = kev[i].events;
    evs[2 * out + 1] = (uint32_t)kev[i].data.u64;
    out++;
  }
  return out;
}

int vcl_epoll_harvest(vcl_worker_t *wrk, uint32_t vep_idx, uint32_t *evs, int max, int timeout_ms) {
  vcl_session_t *vep = vcl_session_get(wrk, vep_idx);
  if (!vep || vep->state != VCL_S_VEP)
    return -EBADFD;
  /* The set's fd, read once: the waits below do not look at the pool. */
  return vcl_epoll_harvest_fd(wrk, vep->fd, evs, max, timeout_ms);
}

int vcl_epoll_harvest_fd(vcl_worker_t *wrk, int epfd, uint32_t *evs, int max, int timeout_ms) {
  if (max <= 0 || !evs)
    return -EINVAL;
  if (timeout_ms == 0)
    return harvest_once(wrk, epfd, evs, max, 0);
  double deadline = timeout_ms > 0 ? rt_now_ns() + (double)timeout_ms * 1e6 : 0;
  for (;;) {
    if (rt_stop_requested())
      return -EINTR;
    int slice = WAIT_SLICE_MS;
    if (timeout_ms > 0) {
      double left = (deadline - rt_now_ns()) / 1e6;
      if (left <= 0)
        return 0;
      if (left < slice)
        slice = (int)left + 1;
    }
    int n = harvest_once(wrk, epfd, evs, max, slice);
    if (n != 0)
      return n;
  }
}

static int wait_poll(vcl_worker_t *wrk, int fd, short events, int timeout_ms) {
  double deadline = timeout_ms >= 0 ? rt_now_ns() + (double)timeout_ms * 1e6 : 0;
  for (;;) {
    if (rt_stop_requested())
      return -EINTR;
    int slice = WAIT_SLICE_MS;
    if (timeout_ms >= 0) {
      double left = (deadline - rt_now_ns()) / 1e6;
      if (left <= 0)
        return 0;
      if (left < slice)
        slice = (int)left + 1;
    }
    struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = wrk->mq_efd, .events = POLLIN}};
    CNT_INC(wrk->index, syscalls);
    int n = poll(p, 2, slice);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    if (p[1].revents)
      vcl_mq_drain(wrk);
    if (p[0].revents)
      return 1;
  }
}

int vcl_wait_fd(vcl_worker_t *wrk, int fd, short events, int timeout_ms) {
  return wait_poll(wrk, fd, events, timeout_ms);
}

/* ---------------- message queue ---------------- */

int vcl_mq_send(uint32_t dst, const vcl_msg_t *msg) {
  vcl_worker_t *w = vcl_worker_get(dst);
  if (!w)
    return -ENOENT;
  /* The eventfd is signalled under mq_lock too: the worker may be exiting,
   * and vcl_worker_free closes the eventfd under mq_lock, so a signal never
   * goes to a closed (or reused) descriptor. */
  pthread_mutex_lock(&w->mq_lock);
  if (!atomic_load(&w->in_use)) {
    pthread_mutex_unlock(&w->mq_lock);
    return -ENOENT;
  }
  if (w->mq_tail - w->mq_head == VCL_MQ_SIZE) {
    pthread_mutex_unlock(&w->mq_lock);
    return -EAGAIN;
  }
  w->mq[w->mq_tail++ % VCL_MQ_SIZE] = *msg;
  uint64_t one = 1;
  int rv = write(w->mq_efd, &one, sizeof one) < 0 && errno != EAGAIN ? -errno : 0;
  pthread_mutex_unlock(&w->mq_lock);
  return rv;
}

int vcl_mq_drain(vcl_worker_t *wrk) {
  uint64_t n_ev;
  CNT_INC(wrk->index, syscalls);
  if (read(wrk->mq_efd, &n_ev, sizeof n_ev) < 0) {
    /* nothing signalled; still look, a message may race the eventfd */
  }
  int handled = 0;
  for (;;) {
    vcl_msg_t m;
    pthread_mutex_lock(&wrk->mq_lock);
    if (wrk->mq_head == wrk->mq_tail) {
      pthread_mutex_unlock(&wrk->mq_lock);
      break;
    }
    m = wrk->mq[wrk->mq_head++ % VCL_MQ_SIZE];
    pthread_mutex_unlock(&wrk->mq_lock);
    if (msg_handler)
      msg_handler(wrk, &m);
    handled++;
  }
  return handled;
}

