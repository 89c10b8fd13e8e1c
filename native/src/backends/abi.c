/*
 * abi.c - every exported vlsb_* function: argument checks common to every
 * backend, then a call through the chosen backend's table, or into the
 * runtime floor (clock, stop flag, counters) or the echo loop.
 */

#include <errno.h>
#include <string.h>

#include "backend.h"
#include "counters.h"
#include "echo_loop.h"
#include "runtime.h"
#include "vlsb.h"

/* vlsb_fork_echo_workers forks at most this many at once. */
#define MAX_FORK_AT_ONCE 32

static const vlsb_backend_ops_t *be;
static int be_id = -1, be_mode = -1;

double vlsb_now_ns(void) { return rt_now_ns(); }
void vlsb_stop_waits(int stop) { rt_stop_set(stop); }
int vlsb_stop_requested(void) { return rt_stop_requested(); }

int vlsb_app_init(int backend, int mode, const char *options) {
  if (mode < VLSB_MODE_SINGLE || mode > VLSB_MODE_PROCESS)
    return -EINVAL;
  const vlsb_backend_ops_t *ops;
  if (backend == VLSB_BACKEND_KERNEL)
    ops = &kernel_backend;
  else if (backend == VLSB_BACKEND_VPP)
    ops = &vpp_backend;
  else
    return -EINVAL;
  if (be)
    return be_id == backend && be_mode == mode ? 0 : -EALREADY;
  int rv = ops->app_init(mode, options);
  if (rv < 0)
    return rv;
  be = ops;
  be_id = backend;
  be_mode = mode;
  return 0;
}

int vlsb_app_fini(void) {
  if (!be)
    return 0;
  int rv = be->app_fini();
  be = 0;
  be_id = be_mode = -1;
  return rv;
}

int vlsb_app_backend(void) { return be ? be_id : -ENOTCONN; }
int vlsb_app_mode(void) { return be ? be_mode : -ENOTCONN; }

#define NEED_APP() \
  do {             \
    if (!be)       \
      return -ENOTCONN; \
  } while (0)

int vlsb_create(int proto, int nonblocking) {
  NEED_APP();
  return be->create(proto, nonblocking);
}
int vlsb_bind(int h, const uint8_t *ep) {
  NEED_APP();
  return ep ? be->bind(h, ep) : -EINVAL;
}
int vlsb_listen(int h, int backlog) {
  NEED_APP();
  return be->listen(h, backlog);
}
int vlsb_accept(int h, uint8_t *ep_out, int flags) {
  NEED_APP();
  return be->accept(h, ep_out, flags);
}
int vlsb_connect(int h, const uint8_t *ep) {
  NEED_APP();
  return ep ? be->connect(h, ep) : -EINVAL;
}
int vlsb_read(int h, void *buf, int len) {
  NEED_APP();
  return be->read(h, buf, len);
}
int vlsb_write(int h, const void *buf, int len) {
  NEED_APP();
  return be->write(h, buf, len);
}
int vlsb_shutdown(int h, int how) {
  NEED_APP();
  return be->shutdown(h, how);
}
int vlsb_close(int h) {
  NEED_APP();
  return be->close(h);
}
int vlsb_attr(int h, int op, int value, uint8_t *ep_out) {
  NEED_APP();
  return be->attr(h, op, value, ep_out);
}
int vlsb_epoll_create(void) {
  NEED_APP();
  return be->epoll_create();
}
int vlsb_epoll_ctl(int ep, int op, int h, uint32_t events, uint32_t data) {
  NEED_APP();
  return be->epoll_ctl(ep, op, h, events, data);
}
int vlsb_epoll_wait(int ep, uint32_t *evs, int max_events, int timeout_ms) {
  NEED_APP();
  if (!evs || max_events <= 0)
    return -EINVAL;
  return be->epoll_wait(ep, evs, max_events, timeout_ms);
}
int vlsb_worker_register(void) {
  NEED_APP();
  return be->worker_register();
}
int vlsb_worker_unregister(void) {
  NEED_APP();
  return be->worker_unregister();
}
int vlsb_worker_index(void) {
  NEED_APP();
  int w = be->worker_index();
  return w < 0 ? -ENOENT : w;
}

const char *vlsb_strerror(int err) {
  if (err < 0)
    err = -err;
  if (err == 0)
    return "success";
  static const char *const unknown = "unknown error";
  const char *s = strerrordesc_np(err);
  return s ? s : unknown;
}

int vlsb_counters_json(char *buf, int cap) {
  if (!buf || cap <= 0)
    return -EINVAL;
  return counters_json(buf, cap, vlsb_app_backend(), vlsb_app_mode());
}

int vlsb_rpc_latencies(double *out, int max) {
  if (!out || max < 0)
    return -EINVAL;
  return rpc_latencies_drain(out, max);
}

int vlsb_echo_loop(int h) { return echo_loop_run(h); }

/* A forked worker: the echo loop, then it leaves the app as a child must. */
static int echo_worker(int h) {
  int rv = echo_loop_run(h);
  vlsb_app_fini();
  return rv;
}

int vlsb_fork_echo_workers(int h, int n, int32_t *pids_out) {
  if (!be || be_mode != VLSB_MODE_PROCESS)
    return -EINVAL;
  if (h < 0 || n <= 0 || n > MAX_FORK_AT_ONCE || !pids_out)
    return -EINVAL;
  /* A child with no listener would fail at once and still be counted as a
   * worker: the handle must name a live session before anything forks. */
  int rv = be->attr(h, VLSB_ATTR_GET_FLAGS, 0, 0);
  if (rv < 0)
    return rv;
  rv = be->fork_workers(n, pids_out, echo_worker, h);
  /* A failed call killed the children it had forked: clean their workers
   * up now rather than at some later epoll_wait. */
  if (rv < 0)
    be->reap_children();
  return rv;
}

int vlsb_reap_children(void) { return be ? be->reap_children() : 0; }

int vlsb_child_exits(int32_t *out, int max) {
  if (!out || max < 0)
    return -EINVAL;
  return rt_child_exits_drain(out, max);
}
