/*
 * vcl.h - the embedded backend's VCL-style layer over Linux sockets.
 *
 * As in VPP's VCL, this layer is NOT thread-safe by construction: a worker's
 * session pool, epoll sets and message queue belong to the thread (or forked
 * process) that registered the worker. The only cross-thread entry points
 * are vcl_mq_send (any thread may post to any worker's queue) and the RPC
 * result slot of a worker (guarded by its own mutex). Everything else is
 * made safe, or not, by the VLS layer above (vls*.c). Files: vcl_worker.c
 * (workers, session pools), vcl.c (session operations, endpoints),
 * vcl_epoll_mq.c (epoll sets, waits, message queue).
 *
 * Mapping (docs/architecture.md, "The embedded model"):
 *   VCL session  = kernel fd (always O_NONBLOCK underneath) + VCL state;
 *   epoll set    = a session flagged vep, holding a kernel epoll fd;
 *   mq           = a locked ring + an eventfd registered in every epoll set
 *                  of the worker, so an RPC wakes a worker that polls;
 *   blocking ops = poll() on the fd and the mq eventfd, serving RPCs while
 *                  waiting, in slices so vlsb_stop_waits is noticed.
 */
#ifndef VLSB_VCL_H
#define VLSB_VCL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime.h"

#define VCL_MAX_WORKERS RT_MAX_WORKERS
#define VCL_MQ_SIZE 1024
#define VCL_INVALID ((uint32_t)~0u)
/* The epoll data of a worker's mq eventfd in its epoll sets: above any
 * u32 a caller can register, so it is never reported as a caller's event. */
#define VCL_MQ_MARK (1ull << 32)

enum vcl_state {
  VCL_S_FREE = 0,
  VCL_S_CLOSED,       /* created, not connected or listening (bind keeps it
                         CLOSED, as in VCL, so a bound session can migrate) */
  VCL_S_LISTEN,
  VCL_S_LISTEN_NO_MQ, /* listener inherited by a forked worker, not started */
  VCL_S_CONNECTING,
  VCL_S_READY,
  VCL_S_VEP,          /* an epoll set */
};

#define VCL_F_NONBLOCK 0x01
#define VCL_F_SHUT_RD 0x02
#define VCL_F_SHUT_WR 0x04
#define VCL_F_IN_VEP 0x08
/* SO_REUSEPORT asked for before the socket exists: set when the family is
 * known (bind or connect opens the socket). */
#define VCL_F_REUSEPORT 0x10

typedef struct {
  int fd;
  uint8_t state;
  uint8_t proto;
  uint8_t flags;
  uint8_t pad;
  uint32_t gen;      /* bumped on free, so stale indices are caught */
  uint32_t vep_idx;  /* epoll set this session is registered in */
  uint32_t vep_n;    /* vep: number of registered sessions */
  uint32_t ev_events;
  uint32_t ev_data;
} vcl_session_t;

enum vcl_msg_type { VCL_MSG_CLONE = 1, VCL_MSG_CLEANUP = 2 };

typedef struct {
  uint8_t type;
  uint32_t session;   /* index in the receiving worker */
  uint32_t requester; /* worker that asked (CLONE) */
  uint32_t gen;       /* generation of `session` when the request was made */
  uint64_t seq;       /* requester's RPC sequence number (CLONE) */
} vcl_msg_t;

enum vcl_rpc_state { VCL_RPC_INIT = 0, VCL_RPC_SUCCESS, VCL_RPC_NOT_EXIST };

/* The answer to a clone RPC, written by the owner into the requester's
 * worker (a stable global), accepted only while seq still matches, so an
 * answer that arrives after the requester timed out is discarded. */
typedef struct {
  pthread_mutex_t lock;
  uint64_t seq;
  atomic_int state;
  vcl_session_t copy; /* fd is a dup owned by the requester once accepted */
} vcl_rpc_result_t;

typedef struct {
  uint32_t index;
  atomic_int in_use;
  pid_t pid;
  /* session pool: owner thread only */
  vcl_session_t *sessions;
  uint32_t n_sessions, cap;
  uint32_t *free_idx;
  uint32_t n_free;
  /* message queue: any thread posts, the owner drains */
  int mq_efd;
  pthread_mutex_t mq_lock;
  uint32_t mq_head, mq_tail;
  vcl_msg_t mq[VCL_MQ_SIZE];
  vcl_rpc_result_t rpc; /* last: outlives a free/alloc of the index (vcl.c) */
} vcl_worker_t;

extern vcl_worker_t vcl_workers[VCL_MAX_WORKERS];

/* Callback run by the owner for every message it drains. */
typedef void (*vcl_msg_handler_t)(vcl_worker_t *wrk, const vcl_msg_t *msg);
void vcl_set_msg_handler(vcl_msg_handler_t h);

/* -> index or -errno; want >= 0 asks for that index (process mode takes
 * indices from a registry shared by every forked worker). */
int vcl_worker_alloc(int want);
void vcl_worker_free(uint32_t wrk_index, int close_sessions);
static inline vcl_worker_t *vcl_worker_get(uint32_t i) {
  return i < VCL_MAX_WORKERS && atomic_load(&vcl_workers[i].in_use) ? &vcl_workers[i] : 0;
}

vcl_session_t *vcl_session_alloc(vcl_worker_t *wrk, uint32_t *idx_out);
void vcl_session_free(vcl_worker_t *wrk, uint32_t idx);
static inline vcl_session_t *vcl_session_get(vcl_worker_t *wrk, uint32_t idx) {
  if (!wrk || idx >= wrk->n_sessions || wrk->sessions[idx].state == VCL_S_FREE)
    return 0;
  return &wrk->sessions[idx];
}

/* Session operations: the session must belong to wrk. */
int vcl_create(vcl_worker_t *wrk, int proto, int nonblocking, uint32_t *idx_out);
int vcl_bind(vcl_worker_t *wrk, uint32_t idx, const uint8_t *ep);
int vcl_listen(vcl_worker_t *wrk, uint32_t idx, int backlog);
int vcl_accept(vcl_worker_t *wrk, uint32_t idx, uint8_t *ep_out, int flags, uint32_t *new_idx);
int vcl_connect(vcl_worker_t *wrk, uint32_t idx, const uint8_t *ep);
int vcl_read(vcl_worker_t *wrk, uint32_t idx, void *buf, int len);
int vcl_write(vcl_worker_t *wrk, uint32_t idx, const void *buf, int len);
int vcl_shutdown(vcl_worker_t *wrk, uint32_t idx, int how);
int vcl_close(vcl_worker_t *wrk, uint32_t idx);
int vcl_attr(vcl_worker_t *wrk, uint32_t idx, int op, int value, uint8_t *ep_out);
int vcl_epoll_create(vcl_worker_t *wrk, uint32_t *idx_out);
int vcl_epoll_ctl(vcl_worker_t *wrk, uint32_t vep, int op, uint32_t idx, uint32_t events,
                  uint32_t data);
/* Harvests ready events, waiting at most timeout_ms (0: poll, < 0: for
 * ever) in slices that notice vlsb_stop_waits (-EINTR). The mq eventfd is
 * in the set: RPCs are served as they arrive and never reported. */
int vcl_epoll_harvest(vcl_worker_t *wrk, uint32_t vep, uint32_t *evs, int max, int timeout_ms);
/* The same on the set's kernel epoll fd (or a dup of it), touching no
 * session pool: for waits that run with the pool's lock dropped. */
int vcl_epoll_harvest_fd(vcl_worker_t *wrk, int epfd, uint32_t *evs, int max, int timeout_ms);
/* Takes session s out of the epoll set it is registered in, if any. */
void vcl_vep_unlink(vcl_worker_t *wrk, vcl_session_t *s);
/* Blocks until fd is ready for `events` (POLLIN/POLLOUT) or timeout. */
int vcl_wait_fd(vcl_worker_t *wrk, int fd, short events, int timeout_ms);

/* Message queue */
int vcl_mq_send(uint32_t dst_wrk, const vcl_msg_t *msg);
int vcl_mq_drain(vcl_worker_t *wrk); /* -> messages handled */

/* Builds a vcl session that is a copy of src with a dup'ed fd. */
int vcl_session_clone_into(const vcl_session_t *src, vcl_session_t *dst);

int ep_to_sockaddr(const uint8_t *ep, void *ss, unsigned *len);
void sockaddr_to_ep(const void *ss, uint8_t *ep);

#endif
