/*
 * vcl.c - VCL-style workers, session pools, epoll sets and message queues
 * over Linux sockets. Not thread-safe by construction (see vcl.h).
 */

#include "vcl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "counters.h"
#include "vlsb.h"

vcl_worker_t vcl_workers[VCL_MAX_WORKERS];
static pthread_mutex_t vcl_workers_lock = PTHREAD_MUTEX_INITIALIZER;
static vcl_msg_handler_t msg_handler;

#define MQ_MARK (1ull << 32)
#define WAIT_SLICE_MS 100

void vcl_set_msg_handler(vcl_msg_handler_t h) { msg_handler = h; }

/* ---------------- endpoints ---------------- */

int ep_to_sockaddr(const uint8_t *ep, void *ss, unsigned *len) {
  if (!ep)
    return -EINVAL;
  uint16_t port;
  memcpy(&port, ep + 2, 2);
  if (ep[0] == 4) {
    struct sockaddr_in *a = ss;
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    memcpy(&a->sin_addr, ep + 4, 4);
    *len = sizeof *a;
    return 0;
  }
  if (ep[0] == 6) {
    struct sockaddr_in6 *a = ss;
    memset(a, 0, sizeof *a);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    memcpy(&a->sin6_addr, ep + 4, 16);
    *len = sizeof *a;
    return 0;
  }
  return -EAFNOSUPPORT;
}

void sockaddr_to_ep(const void *ss, uint8_t *ep) {
  const struct sockaddr *sa = ss;
  memset(ep, 0, VLSB_EP_SIZE);
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *a = ss;
    uint16_t port = ntohs(a->sin_port);
    ep[0] = 4;
    memcpy(ep + 2, &port, 2);
    memcpy(ep + 4, &a->sin_addr, 4);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *a = ss;
    uint16_t port = ntohs(a->sin6_port);
    ep[0] = 6;
    memcpy(ep + 2, &port, 2);
    memcpy(ep + 4, &a->sin6_addr, 16);
  }
}

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

/* ---------------- sessions ---------------- */

int vcl_create(vcl_worker_t *wrk, int proto, int nonblocking, uint32_t *idx_out) {
  if (proto != VLSB_PROTO_TCP && proto != VLSB_PROTO_UDP)
    return -EPROTONOSUPPORT;
  /* The family is chosen at bind/connect time (VCL does the same): the fd is
   * opened lazily by ensure_fd. */
  vcl_session_t *s = vcl_session_alloc(wrk, idx_out);
  if (!s)
    return -ENOMEM;
  s->proto = (uint8_t)proto;
  s->flags = nonblocking ? VCL_F_NONBLOCK : 0;
  return 0;
}

static int ensure_fd(vcl_session_t *s, int family) {
  if (s->fd >= 0)
    return 0;
  int type = s->proto == VLSB_PROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
  int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  if (type == SOCK_STREAM) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  s->fd = fd;
  return 0;
}

int vcl_bind(vcl_worker_t *wrk, uint32_t idx, const uint8_t *ep) {
  vcl_session_t *s = vcl_session_get(wrk, idx);
  if (!s || s->state == VCL_S_VEP)
    return -EBADFD;
  if (s->state != VCL_S_CLOSED)
    return -EINVAL;
  struct sockaddr_storage ss;
  unsigned len;
  int rv = ep_to_sockaddr(ep, &ss, &len);
  if (rv)
    return rv;
  if ((rv = ensure_fd(s, ss.ss_family)))
    return rv;
  int one = 1;
  setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(s->fd, (struct sockaddr *)&ss, len) < 0)
    return -errno;
  return 0;
}

int vcl_listen(vcl_worker_t *wrk, uint32_t idx, int backlog) {
  vcl_session_t *s = vcl_session_get(wrk, idx);
  if (!s || s->state == VCL_S_VEP)
    return -EBADFD;
  if (s->state == VCL_S_LISTEN)
    return 0;
  if (s->state != VCL_S_CLOSED || s->fd < 0 || s->proto != VLSB_PROTO_TCP)
    return -EINVAL; /* VPP also wants a bound TCP session */
  if (listen(s->fd, backlog > 0 ? backlog : SOMAXCONN) < 0)
    return -errno;
  s->state = VCL_S_LISTEN;
  return 0;
}

int vcl_accept(vcl_worker_t *wrk, uint32_t idx, uint8_t *ep_out, int flags, uint32_t *new_idx) {
  vcl_session_t *s = vcl_session_get(wrk, idx);
  if (!s || s->state == VCL_S_VEP)
    return -EBADFD;
  if (s->state != VCL_S_LISTEN && s->state != VCL_S_LISTEN_NO_MQ)
    return -EINVAL;
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  CNT_INC(wrk->index, syscalls);
  int fd = accept4(s->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0)
    return errno == EWOULDBLOCK ? -EAGAIN : -errno;
  /* s may move when the pool grows below: do not touch it after alloc. */
  vcl_session_t *ns = vcl_session_alloc(wrk, new_idx);
  if (!ns) {
    close(fd);
    return -ENOMEM;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ns->fd = fd;
  ns->proto = VLSB_PROTO_TCP;
  ns->state = VCL_S_READY;
  ns->flags = (flags & O_NONBLOCK) ? VCL_F_NONBLOCK : 0;
  if (ep_out)
    sockaddr_to_ep(&ss, ep_out);
  CNT_INC(wrk->index, accepts);
  return 0;
}

int vcl_connect(vcl_worker_t *wrk, uint32_t idx, const uint8_t *ep) {
  vcl_session_t *s = vcl_session_get(wrk, idx);
  if (!s || s->state == VCL_S_VEP)
    return -EBADFD;
  if (s->state == VCL_S_READY)
    return -EISCONN;
  if (s->state == VCL_S_CONNECTING) {
    /* Finish a non-blocking connect: the socket error says how it went. */
    int err = 0;
    socklen_t l = sizeof err;
    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &l);
    if (err)
      return -err;
    struct pollfd p = {.fd = s->fd, .events = POLLOUT};
    if (poll(&p, 1, 0) == 1 && (p.revents & POLLOUT)) {
      s->state = VCL_S_READY;
      return 0;
    }
    return -EALREADY;
  }
  if (s->state != VCL_S_CLOSED)
    return -EINVAL;
  struct sockaddr_storage ss;
  unsigned len;
  int rv = ep_to_sockaddr(ep, &ss, &len);
  if (rv)
    return rv;
  if ((rv = ensure_fd(s, ss.ss_family)))
    return rv;
  if (connect(s->fd, (struct sockaddr *)&ss, len) == 0) {
    s->state = VCL_S_READY;
    return 0;
  }
  if (errno == EINPROGRESS) {
    s->state = VCL_S_CONNECTING;
    return -EINPROGRESS;
  }
  return -errno;
}

/* A pending non-blocking connect that the socket says is done becomes
 * READY; returns 1 then, 0 while it is still in progress or failed. */
static int connect_finished(vcl_session_t *s) {
  struct pollfd p = {.fd = s->fd, .events = POLLOUT};
  if (poll(&p, 1, 0) == 1 && !(p.revents & (POLLERR | POLLHUP))) {
    s->state = VCL_S_READY;
    return 1;
  }
  return 0;
}

/* Checks common to read and write: a connected data session (a pending
 * non-blocking connect is finished here), a sane buffer. */
static int io_session(vcl_worker_t *wrk, uint32_t idx, const void *buf, int len, vcl_session_t **out) {
  vcl_session_t *s = vcl_session_get(wrk, idx);
  if (!s || s->state == VCL_S_VEP)
    return -EBADFD;
  if (len < 0 || (!buf && len))
    return -EINVAL;
  if (s->state == VCL_S_CONNECTING && !connect_finished(s))
    return -EAGAIN;
  if (s->state != VCL_S_READY)
    return -ENOTCONN;
  *out = s;
  return 0;
}

int vcl_read(vcl_worker_t *wrk, uint32_t idx, void *buf, int len) {
  vcl_session_t *s;
  int rv = io_session(wrk, idx, buf, len, &s);
  if (rv < 0)
    return rv;
  if (s->flags & VCL_F_SHUT_RD)
    return 0;
  CNT_INC(wrk->index, syscalls);
  ssize_t n = recv(s->fd, buf, (size_t)len, 0);
  if (n < 0)
    return errno == EWOULDBLOCK ? -EAGAIN : -errno;
  CNT_INC(wrk->index, msgs_in);
  CNT_ADD(wrk->index, bytes_in, n);
  return (int)n;
}

int vcl_write(vcl_worker_t *wrk, uint32_t idx, const void *buf, int len) {
  vcl_session_t *s;
  int rv = io_session(wrk, idx, buf, len, &s);
  if (rv < 0)
    return rv;
  if (s->flags & VCL_F_SHUT_WR)
    return -EPIPE;
  CNT_INC(wrk->index, syscalls);
  ssize_t n = send(s->fd, buf, (size_t)len, MSG_NOSIGNAL);
  if (n < 0)
    return errno == EWOULDBLOCK ? -EAGAIN : -errno;
  CNT_INC(wrk->index, msgs_out);
  CNT_ADD(wrk->index, bytes_out, n);
  return (int)n;
}

int vcl_shutdown(vcl_worker_t *wrk, uint32_t idx, int how) {
  vcl_session_t *s = vcl_session_get(wrk, idx);
  if (!s || s->state == VCL_S_VEP)
    return -EBADFD;
  if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
    return -EINVAL;
  if (s->state == VCL_S_CONNECTING)
    connect_finished(s);
  if (s->state != VCL_S_READY)
    return -ENOTCONN;
  if (shutdown(s->fd, how) < 0)
    return -errno;
  if (how == SHUT_RD || how == SHUT_RDWR)
    s->flags |= VCL_F_SHUT_RD;
  if (how == SHUT_WR || how == SHUT_RDWR)
    s->flags |= VCL_F_SHUT_WR;
  return 0;
}

static void vep_unlink(vcl_worker_t *wrk, vcl_session_t *s) {
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

int vcl_close(vcl_worker_t *wrk, uint32_t idx) {
  vcl_session_t *s = vcl_session_get(wrk, idx);
  if (!s)
    return -EBADFD;
  if (s->state == VCL_S_VEP) {
    /* Sessions still registered in this set forget it. */
    for (uint32_t i = 0; i < wrk->n_sessions && s->vep_n; i++) {
      vcl_session_t *m = &wrk->sessions[i];
      if (m->state != VCL_S_FREE && (m->flags & VCL_F_IN_VEP) && m->vep_idx == idx) {
        m->flags &= (uint8_t)~VCL_F_IN_VEP;
        m->vep_idx = VCL_INVALID;
        s->vep_n--;
      }
    }
  } else {
    vep_unlink(wrk, s);
  }
  if (s->fd >= 0)
    close(s->fd);
  vcl_session_free(wrk, idx);
  return 0;
}

int vcl_attr(vcl_worker_t *wrk, uint32_t idx, int op, int value, uint8_t *ep_out) {
  vcl_session_t *s = vcl_session_get(wrk, idx);
  if (!s || s->state == VCL_S_VEP)
    return -EBADFD;
  int one = value ? 1 : 0;
  switch (op) {
  case VLSB_ATTR_GET_NREAD: {
    int n = 0;
    if (s->fd < 0 || s->state != VCL_S_READY)
      return 0;
    if (ioctl(s->fd, FIONREAD, &n) < 0)
      return -errno;
    return n;
  }
  case VLSB_ATTR_GET_FLAGS:
    return (s->flags & VCL_F_NONBLOCK) ? O_NONBLOCK : 0;
  case VLSB_ATTR_SET_FLAGS:
    if (value & O_NONBLOCK)
      s->flags |= VCL_F_NONBLOCK;
    else
      s->flags &= (uint8_t)~VCL_F_NONBLOCK;
    return 0;
  case VLSB_ATTR_GET_PEER_ADDR:
  case VLSB_ATTR_GET_LCL_ADDR: {
    if (!ep_out)
      return -EINVAL;
    if (s->fd < 0)
      return -ENOTCONN;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int rv = op == VLSB_ATTR_GET_PEER_ADDR ? getpeername(s->fd, (struct sockaddr *)&ss, &len)
                                           : getsockname(s->fd, (struct sockaddr *)&ss, &len);
    if (rv < 0)
      return -errno;
    sockaddr_to_ep(&ss, ep_out);
    return 0;
  }
  case VLSB_ATTR_SET_REUSEPORT: {
    int rv = ensure_fd(s, AF_INET);
    if (rv)
      return rv;
    return setsockopt(s->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ? -errno : 0;
  }
  case VLSB_ATTR_SET_TCP_NODELAY:
    if (s->fd < 0)
      return -ENOTCONN;
    return setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ? -errno : 0;
  default:
    return -EINVAL;
  }
}

/* ---------------- epoll sets ---------------- */

int vcl_epoll_create(vcl_worker_t *wrk, uint32_t *idx_out) {
  int efd = epoll_create1(EPOLL_CLOEXEC);
  if (efd < 0)
    return -errno;
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = MQ_MARK};
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
    vep_unlink(wrk, s);
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
    if (kev[i].data.u64 == MQ_MARK) {
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

int vcl_session_clone_into(const vcl_session_t *src, vcl_session_t *dst) {
  *dst = *src;
  dst->flags &= (uint8_t)~VCL_F_IN_VEP;
  dst->vep_idx = VCL_INVALID;
  if (src->state == VCL_S_VEP) {
    /* An epoll set cannot be shared; the requester creates its own kernel
     * epoll (only empty sets migrate, so nothing is lost). */
    dst->fd = -1;
    return 0;
  }
  if (src->fd >= 0) {
    dst->fd = fcntl(src->fd, F_DUPFD_CLOEXEC, 0);
    if (dst->fd < 0)
      return -errno;
  }
  return 0;
}
