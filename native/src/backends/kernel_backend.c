/*
 * kernel_backend.c - binds the embedded VLS model (model/vls.c, and
 * model/vls_fork.c for process mode) into the backend table.
 */
#include <stdlib.h>

#include "backend.h"
#include "vls.h"
#include "vls_fork.h"
#include "vlsb.h"

/* How long a thread-mode migration waits for the owner's answer. */
#define DEFAULT_RPC_TIMEOUT_MS 3000

static int k_app_init(int mode, const char *options) {
  char v[32];
  int rpc_ms = rt_option_get(options, "rpc_timeout_ms", v, sizeof v) ? atoi(v) : DEFAULT_RPC_TIMEOUT_MS;
  return vls_app_init(mode, rpc_ms);
}

static int k_worker_index(void) { return vls_tl_wrk >= 0 ? vls_tl_wrk : -2; }

const vlsb_backend_ops_t kernel_backend = {
    .name = "kernel",
    .app_init = k_app_init,
    .app_fini = vls_app_fini,
    .create = vls_create,
    .bind = vls_bind,
    .listen = vls_listen,
    .accept = vls_accept,
    .connect = vls_connect,
    .read = vls_read,
    .write = vls_write,
    .shutdown = vls_shutdown,
    .close = vls_close,
    .attr = vls_attr,
    .epoll_create = vls_epoll_create,
    .epoll_ctl = vls_epoll_ctl,
    .epoll_wait = vls_epoll_wait,
    .worker_register = vls_register_thread,
    .worker_unregister = vls_unregister_thread,
    .worker_index = k_worker_index,
    /* The model's own fork handlers (vls_fork.c) make each child a worker,
     * record it for the SIGCHLD cleanup and count the fork. */
    .fork_workers = rt_fork_children,
    .reap_children = vls_fork_reap,
};
