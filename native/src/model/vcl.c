/*
 * vcl.c - the embedded VCL's session operations over Linux sockets (create,
 * bind, listen, accept, connect, read, write, shutdown, close, attr) and
 * the endpoint encoding; workers and session pools are in vcl_worker.c,
 * epoll sets, waits and the message queue in vcl_epoll_mq.c. Not
 * thread-safe by construction (see vcl.h).
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
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "counters.h"
#include "vlsb.h"

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
  if ((s->flags & VCL_F_REUSEPORT) && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &(int){1}, sizeof(int)) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  s->fd = fd;
  return 0;
}

/* The address of endpoint ep, and s's fd of that address family (opened
 * now if s has none yet): the common start of bind and connect. */
static int endpoint_fd(vcl_session_t *s, const uint8_t *ep, struct sockaddr_storage *ss, unsigned *len) {
  int rv = ep_to_sockaddr(ep, ss, len);
  return rv ? rv : ensure_fd(s, ss->ss_family);
}

int vcl_bind(vcl_worker_t *wrk, uint32_t idx, const uint8_t *ep) {
  vcl_session_t *s = vcl_session_get(wrk, idx);
  if (!s || s->state == VCL_S_VEP)
    return -EBADFD;
  if (s->state != VCL_S_CLOSED)
    return -EINVAL;
  struct sockaddr_storage ss;
  unsigned len;
  int rv = endpoint_fd(s, ep, &ss, &len);
  if (rv)
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
  int rv = endpoint_fd(s, ep, &ss, &len);
  if (rv)
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
 * READY; returns 1 then, 0 while it is still in progress, or the negative
 * errno of a connect that failed or was reset right after the handshake
 * (the socket's SO_ERROR; -ECONNRESET once that has been taken). A failed
 * one stays CONNECTING, so every later call fails the same way rather
 * than waiting (-EAGAIN) for a connect that will never finish. */
static int connect_finished(vcl_session_t *s) {
  struct pollfd p = {.fd = s->fd, .events = POLLOUT};
  if (poll(&p, 1, 0) != 1)
    return 0;
  if (p.revents & (POLLERR | POLLHUP)) {
    int err = 0;
    socklen_t l = sizeof err;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
      err = errno;
    return -(err ? err : ECONNRESET);
  }
  if (!(p.revents & POLLOUT))
    return 0;
  s->state = VCL_S_READY;
  return 1;
}

/* Checks common to read and write: a connected data session (a pending
 * non-blocking connect is finished here), a sane buffer. */
static int io_session(vcl_worker_t *wrk, uint32_t idx, const void *buf, int len, vcl_session_t **out) {
  vcl_session_t *s = vcl_session_get(wrk, idx);
  if (!s || s->state == VCL_S_VEP)
    return -EBADFD;
  if (len < 0 || (!buf && len))
    return -EINVAL;
  if (s->state == VCL_S_CONNECTING) {
    int rv = connect_finished(s);
    if (rv <= 0)
      return rv < 0 ? rv : -EAGAIN;
  }
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
    vcl_vep_unlink(wrk, s);
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
  case VLSB_ATTR_SET_REUSEPORT:
    /* No socket yet: its family is unknown until bind or connect (an IPv4
     * socket opened here could never bind an IPv6 address), so remember. */
    if (s->fd < 0) {
      s->flags = one ? (uint8_t)(s->flags | VCL_F_REUSEPORT) : (uint8_t)(s->flags & ~VCL_F_REUSEPORT);
      return 0;
    }
    return setsockopt(s->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ? -errno : 0;
  case VLSB_ATTR_SET_TCP_NODELAY:
    if (s->fd < 0)
      return -ENOTCONN;
    return setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ? -errno : 0;
  default:
    return -EINVAL;
  }
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
