/*
 * vls.h - the embedded backend's VLS layer (internal). The ABI (abi.c)
 * calls these; they take the locks the mode needs and call vcl.c.
 */
#ifndef VLSB_VLS_H
#define VLSB_VLS_H

#include <stdint.h>

#include "locks.h"
#include "vcl.h"

#define VLS_CHUNK 1024
#define VLS_MAX_CHUNKS 1024 /* 1M sessions */
#define VLS_GEN_BITS 11
#define VLS_IDX_BITS 20

typedef struct {
  spinlock_t lock;
  uint32_t vcl_wrk;       /* current VCL worker */
  uint32_t session_index; /* current VCL session index in vcl_wrk */
  uint32_t owner_wrk;     /* VCL worker that created it */
  uint32_t shared_idx;    /* process mode: shared data, or VCL_INVALID */
  uint32_t gen;
  atomic_int in_use;
  atomic_int app_closed;  /* set by close before it takes the lock */
  /* Cache of the current VCL session's fd and O_NONBLOCK, kept under the
   * session lock: the single-mode guard peeks at them before it holds the
   * spool lock, when the VCL pool itself may be growing. */
  int cur_fd;
  uint8_t cur_nonblocking;
  uint32_t clones[VCL_MAX_WORKERS];    /* worker -> VCL session index */
  uint32_t clone_gen[VCL_MAX_WORKERS]; /* its VCL generation: another worker's
                                          pool is never read to learn it */
} vls_session_t;

/* Process-wide VLS state (one VLS worker per process). */
typedef struct {
  int initialized;
  int mode;
  int rpc_timeout_ms;
  uint32_t main_wrk;
  atomic_int n_threads;
  rwlock_t pool_lock;
  pthread_mutex_t mq_mlock; /* single-mode guard */
  rwlock_t spool_lock;      /* single-mode guard */
  rwlock_t map_lock;        /* thread mode: VCL handle -> VLS handle */
  spinlock_t rpc_lock;      /* thread mode: one migration RPC at a time */
  vls_session_t *chunks[VLS_MAX_CHUNKS];
  uint32_t n_alloc, cap;
  uint32_t *free_idx;
  uint32_t n_free;
  uint32_t n_live;
  /* thread mode handle map: per worker, VCL session index -> VLS handle */
  int32_t *sh_to_vlsh[VCL_MAX_WORKERS];
  uint32_t sh_to_vlsh_len[VCL_MAX_WORKERS];
} vls_main_t;

extern vls_main_t vlsm;
extern _Thread_local int vls_tl_wrk;

int vls_app_init(int mode, int rpc_timeout_ms);
int vls_app_fini(void);
int vls_register_thread(void);
int vls_unregister_thread(void);

int vls_create(int proto, int nonblocking);
int vls_bind(int h, const uint8_t *ep);
int vls_listen(int h, int backlog);
int vls_accept(int h, uint8_t *ep_out, int flags);
int vls_connect(int h, const uint8_t *ep);
int vls_read(int h, void *buf, int len);
int vls_write(int h, const void *buf, int len);
int vls_shutdown(int h, int how);
int vls_close(int h);
int vls_attr(int h, int op, int value, uint8_t *ep_out);
int vls_epoll_create(void);
int vls_epoll_ctl(int ep, int op, int h, uint32_t events, uint32_t data);
int vls_epoll_wait(int ep, uint32_t *evs, int max, int timeout_ms);

/* Shared with vls_fork.c */
vls_session_t *vls_at(uint32_t idx);
static inline int vls_handle_of(const vls_session_t *v, uint32_t idx) {
  return (int)(((v->gen & ((1u << VLS_GEN_BITS) - 1)) << VLS_IDX_BITS) | idx);
}
void vls_counters_add_rpc_latency(double ns);

#endif
