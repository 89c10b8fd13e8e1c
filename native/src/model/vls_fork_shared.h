/*
 * vls_fork_shared.h - process mode of the embedded model, internal to
 * model/: the MAP_SHARED region every forked worker sees (worker-index
 * registry, shared data of each session), and the parent's record of its
 * forked children. vls_fork_shared.c owns the region, vls_fork_sigchld.c
 * the children, vls_fork.c the fork handlers that tie them together.
 */
#ifndef VLSB_VLS_FORK_SHARED_H
#define VLSB_VLS_FORK_SHARED_H

#include <signal.h>

#include "vls_fork.h"

#pragma GCC visibility push(hidden)

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

extern fork_shm_t *vls_fsh;

/* Parent-side record of forked children (read by the signal handler). */
typedef struct {
  volatile pid_t pid;
  volatile uint32_t wrk;
  volatile int live;
  atomic_int pending;
} vls_child_t;
extern vls_child_t vls_children[VCL_MAX_WORKERS];
extern struct sigaction vls_prev_sigchld; /* the caller's SIGCHLD disposition */
extern atomic_int vls_sigchld_intercepted; /* our SIGCHLD handler is armed */
extern unsigned vls_seen_stop_gen;         /* vls_fsh->stop_gen this worker applied */

#define BIT(w) (1ull << (w))

/* Registry of worker indices (0 free, -1 reserved for a fork). */
int vls_reg_take(pid_t pid);
void vls_reg_release(uint32_t idx);

/* Shared data of VLS sessions. */
static inline shared_data_t *sd_get(uint32_t i) {
  return i < MAX_SHARED && vls_fsh->sd[i].in_use ? &vls_fsh->sd[i] : 0;
}
void vls_share_session(vls_session_t *v);
uint64_t vls_sd_leave(shared_data_t *sd, uint32_t w);

/* Arms our SIGCHLD handler (it disarms itself when it runs). */
void vls_intercept_sigchld(void);

#pragma GCC visibility pop

#endif
