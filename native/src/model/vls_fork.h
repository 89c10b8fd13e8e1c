/*
 * vls_fork.h - process mode: fork-inherited workers, sessions shared across
 * processes through MAP_SHARED data, listener sharing, deferred SIGCHLD
 * cleanup.
 */
#ifndef VLSB_VLS_FORK_H
#define VLSB_VLS_FORK_H

#include "vcl.h"
#include "vls.h"

int vls_fork_init(void);
void vls_fork_fini(void);
int vls_fork_reserve_index(void);
void vls_fork_mp_check(vls_session_t *v, vcl_worker_t *w, uint32_t sidx, int is_add);
int vls_fork_unshare(vls_session_t *v, vcl_worker_t *w, uint32_t sidx);
void vls_fork_before_harvest(vcl_worker_t *w);
int vls_fork_handle_pending_cleanup(void);

/* Drains the SIGCHLD cleanup queue now (vlsb_reap_children); returns the
 * number of child workers cleaned up. */
int vls_fork_reap(void);

#endif
