/*
 * vlsb.h - the one C ABI that vlsbench's TypeScript binds (src/native/ffi.ts).
 *
 * It mirrors VPP's VLS API (vls_* in libvppcom) so that one server and one
 * load generator drive either backend:
 *   - VLSB_BACKEND_KERNEL: the project's own VCL/VLS model over Linux sockets;
 *   - VLSB_BACKEND_VPP:    libvppcom.so loaded at run time (dlopen).
 *
 * Conventions
 *   - Every int-returning call returns >= 0 on success (a handle, a count or
 *     0) and a negative errno on failure. Nothing aborts on bad input: an
 *     unknown, stale or closed handle gives -EBADFD.
 *   - Handles are small non-negative ints. The kernel backend encodes a
 *     generation in them, so a handle used after close is caught, not
 *     silently routed to the session that reused the slot.
 *   - Endpoints are VLSB_EP_SIZE-byte buffers (see below), owned by the
 *     caller; C never keeps a pointer to them past the call.
 *   - Event buffers for vlsb_epoll_wait are pairs of u32 {events, data}.
 */
#ifndef VLSB_H
#define VLSB_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VLSB_ABI_VERSION 1

enum vlsb_backend { VLSB_BACKEND_KERNEL = 0, VLSB_BACKEND_VPP = 1 };

/* The three VLS modes (the diagram at the top of VPP's vcl_locked.c). */
enum vlsb_mode {
  VLSB_MODE_SINGLE = 0,  /* one VCL worker shared by every thread */
  VLSB_MODE_THREAD = 1,  /* one VCL worker per thread, migration by RPC */
  VLSB_MODE_PROCESS = 2, /* one VCL worker per forked process */
};

enum vlsb_proto { VLSB_PROTO_TCP = 0, VLSB_PROTO_UDP = 1 };

/*
 * Endpoint encoding, VLSB_EP_SIZE bytes:
 *   [0]     address family: 4 or 6
 *   [1]     reserved, 0
 *   [2..3]  port, host byte order (little-endian u16 on every target here)
 *   [4..19] address: IPv4 in the first 4 bytes, IPv6 in all 16
 */
#define VLSB_EP_SIZE 20

/* vlsb_epoll_ctl ops and event bits are Linux's (EPOLL_CTL_*, EPOLL*). */

/* vlsb_attr ops; the numbering follows vppcom's VPPCOM_ATTR_* where it exists. */
enum vlsb_attr_op {
  VLSB_ATTR_GET_NREAD = 0,      /* returns bytes readable now */
  VLSB_ATTR_GET_FLAGS = 2,      /* returns O_NONBLOCK or 0 */
  VLSB_ATTR_SET_FLAGS = 3,      /* value: O_NONBLOCK or 0 */
  VLSB_ATTR_GET_PEER_ADDR = 6,  /* writes ep_out */
  VLSB_ATTR_GET_LCL_ADDR = 4,   /* writes ep_out */
  VLSB_ATTR_SET_REUSEPORT = 19, /* value: 0/1 */
  VLSB_ATTR_SET_TCP_NODELAY = 27, /* value: 0/1 */
};

/* App: once per process. options: "key=value" pairs separated by ';'.
 * Kernel backend key: rpc_timeout_ms (default 3000). VPP backend keys:
 * lib (path of libvppcom.so), app_name, vcl_config. Returns 0 or -errno;
 * a second init with the same backend and mode is a no-op returning 0,
 * with a different one -EALREADY. */
int vlsb_app_init(int backend, int mode, const char *options);
/* Tears the app down (closes every session). Idempotent. */
int vlsb_app_fini(void);
int vlsb_app_backend(void); /* -ENOTCONN before init */
int vlsb_app_mode(void);

int vlsb_create(int proto, int nonblocking);
int vlsb_bind(int h, const uint8_t *ep);
int vlsb_listen(int h, int backlog);
/* flags: O_NONBLOCK for the new session. ep_out may be NULL. */
int vlsb_accept(int h, uint8_t *ep_out, int flags);
int vlsb_connect(int h, const uint8_t *ep);
/* read: > 0 bytes, 0 = peer closed, -EAGAIN when non-blocking and empty. */
int vlsb_read(int h, void *buf, int len);
/* write: > 0 bytes written (may be short), -EAGAIN when full. */
int vlsb_write(int h, const void *buf, int len);
int vlsb_shutdown(int h, int how);
int vlsb_close(int h);
int vlsb_attr(int h, int op, int value, uint8_t *ep_out);

int vlsb_epoll_create(void);
int vlsb_epoll_ctl(int ep, int op, int h, uint32_t events, uint32_t data);
/* evs: max_events pairs of u32 {events, data}. timeout_ms: 0 polls, < 0
 * waits for ever (in slices, so a stop request is seen). Returns the
 * number of events or -errno (-EINTR when vlsb_stop_waits was called). */
int vlsb_epoll_wait(int ep, uint32_t *evs, int max_events, int timeout_ms);

/* Registers the calling thread as a VLS worker now (otherwise its first call
 * does). Returns the VCL worker index the thread uses. */
int vlsb_worker_register(void);
/* Unregisters the calling thread (also done by a thread-exit destructor). */
int vlsb_worker_unregister(void);
/* The calling thread's VCL worker index, or -ENOENT when unregistered. */
int vlsb_worker_index(void);

/* Makes every current and future blocking wait of this process return
 * -EINTR (value 1), or allows waits again (0). */
void vlsb_stop_waits(int stop);
/* 1 once vlsb_stop_waits(1) was called (loops on the vpp backend, whose
 * waits do not see the flag, check this between waits). */
int vlsb_stop_requested(void);

/* Monotonic clock in nanoseconds, as a double (exact to 2^53 ns). */
double vlsb_now_ns(void);

/* Static text for an errno value (either sign). */
const char *vlsb_strerror(int err);

/* Counters snapshot as a JSON object written to buf (NUL-terminated).
 * Returns its length, or -ENOSPC when cap is too small. */
int vlsb_counters_json(char *buf, int cap);
/* Drains up to max recorded migration-RPC latencies (ns) into out. */
int vlsb_rpc_latencies(double *out, int max);

/* Process mode: forks n children after app init; each becomes a VCL worker,
 * adds listener h to its own epoll set and runs the native echo loop until
 * SIGTERM. n is 1..32. pids_out receives the child pids. Returns n or
 * -errno (-EINVAL for h < 0 or a bad n, -EBADFD for a handle of no
 * session; nothing is forked then). All or nothing: when a fork fails
 * (e.g. -EAGAIN at a process limit), the children already forked are
 * killed and reaped, and the fork's error is returned. */
int vlsb_fork_echo_workers(int h, int n, int32_t *pids_out);
/* Runs the native echo loop on listener h in the calling thread until
 * vlsb_stop_waits(1). Used by forked children and by tests. */
int vlsb_echo_loop(int h);
/* Drains the SIGCHLD cleanup queue now (it is also drained by epoll_wait).
 * Returns the number of child workers cleaned up. On the vpp backend (whose
 * VLS cleans up dead children's workers itself but never waits for them)
 * it reaps the exited children vlsb_fork_echo_workers forked, and returns
 * how many. */
int vlsb_reap_children(void);
/* Forked workers reaped so far and not yet reported: up to max pairs of
 * int32 {pid, wait status} into out (WIFEXITED/WTERMSIG decode it).
 * Returns how many pairs. */
int vlsb_child_exits(int32_t *out, int max);

#ifdef __cplusplus
}
#endif
#endif
