/*
 * vpp_backend.c - the real VLS: libvppcom.so loaded at run time (dlopen),
 * so the project builds and tests on machines without VPP. Only the few
 * prototypes used are declared here, from VPP's public headers
 * (vcl/vppcom.h, vcl/vcl_locked.h); the endpoint and epoll-event encodings of the
 * ABI are translated on the way.
 *
 * VPP's VLS keeps no counters vlsbench can read, so this backend counts
 * what it can see itself, in the same shared region the embedded model
 * uses: accepts per VCL worker (with the worker's pid), and forks. That is
 * what makes the accept split across forked children observable on VPP.
 */

#include <dlfcn.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "counters.h"
#include "vpp_fork_gate.h"
#include "vlsb.h"

/* vppcom_endpt_t on x86-64: 48 bytes. */
typedef struct {
  uint8_t unused;
  uint8_t is_ip4;
  uint8_t *ip;
  uint16_t port; /* network order */
  uint64_t unused2;
  uint32_t app_tlv_len;
  void *app_tlvs;
} vpp_endpt_t;
_Static_assert(sizeof(vpp_endpt_t) == 48, "vppcom_endpt_t layout");

enum { VPP_ATTR_GET_NREAD = 0, VPP_ATTR_GET_FLAGS = 2, VPP_ATTR_SET_FLAGS = 3,
       VPP_ATTR_GET_PEER_ADDR = 6, VPP_ATTR_GET_LCL_ADDR = 4, VPP_ATTR_SET_REUSEPORT = 19,
       VPP_ATTR_SET_TCP_NODELAY = 27 };

static struct {
  void *lib;
  int (*app_create)(char *);
  int (*create)(uint8_t, uint8_t);
  int (*bind)(int, vpp_endpt_t *);
  int (*listen)(int, int);
  int (*accept)(int, vpp_endpt_t *, int);
  int (*connect)(int, vpp_endpt_t *);
  long (*read)(int, void *, size_t);
  int (*write)(int, void *, size_t);
  int (*attr)(int, uint32_t, void *, uint32_t *);
  int (*epoll_create)(void);
  int (*epoll_ctl)(int, int, int, struct epoll_event *);
  int (*epoll_wait)(int, struct epoll_event *, int, double);
  int (*shutdown)(int, int);
  int (*close)(int);
  void (*register_worker)(void);
  int (*worker_index)(void);
  void (*app_destroy)(void);
  void (*vls_exit)(void);
  void (*vcl_exit)(void);
} V;

/* The process that created the app; a forked child is another. */
static pid_t app_pid;

static _Thread_local int tl_registered;

/* libvppcom's own dependencies, loaded first from the same directory so a
 * VPP installed under a private prefix needs no LD_LIBRARY_PATH. */
static void preload_deps(const char *path) {
  static const char *const deps[] = {"libvppinfra.so", "libsvm.so", "libvlibmemoryclient.so"};
  const char *slash = path ? strrchr(path, '/') : 0;
  if (!slash)
    return;
  char buf[1200];
  for (size_t i = 0; i < sizeof deps / sizeof deps[0]; i++) {
    int n = snprintf(buf, sizeof buf, "%.*s/%s", (int)(slash - path), path, deps[i]);
    if (n > 0 && n < (int)sizeof buf)
      dlopen(buf, RTLD_NOW | RTLD_GLOBAL); /* absent: the loader's search applies */
  }
}

static int load(const char *path) {
  if (V.lib)
    return 0;
  preload_deps(path);
  V.lib = dlopen(path && *path ? path : "libvppcom.so", RTLD_NOW | RTLD_GLOBAL);
  if (!V.lib)
    return -ENOENT;
#define SYM(field, name)                                   \
  do {                                                     \
    *(void **)&V.field = dlsym(V.lib, name);               \
    if (!V.field)                                          \
      return -ENOSYS;                                      \
  } while (0)
  SYM(app_create, "vls_app_create");
  SYM(create, "vls_create");
  SYM(bind, "vls_bind");
  SYM(listen, "vls_listen");
  SYM(accept, "vls_accept");
  SYM(connect, "vls_connect");
  SYM(read, "vls_read");
  SYM(write, "vls_write");
  SYM(attr, "vls_attr");
  SYM(epoll_create, "vls_epoll_create");
  SYM(epoll_ctl, "vls_epoll_ctl");
  SYM(epoll_wait, "vls_epoll_wait");
  SYM(shutdown, "vls_shutdown");
  SYM(close, "vls_close");
  SYM(register_worker, "vls_register_vcl_worker");
#undef SYM
  *(void **)&V.worker_index = dlsym(V.lib, "vppcom_worker_index");
  *(void **)&V.app_destroy = dlsym(V.lib, "vppcom_app_destroy");
  *(void **)&V.vls_exit = dlsym(V.lib, "vls_app_exit");
  *(void **)&V.vcl_exit = dlsym(V.lib, "vppcom_app_exit");
  return 0;
}

static int v_app_init(int mode, const char *options) {
  (void)mode; /* the mode is in the generated vcl.conf */
  char lib[1024] = "", conf[1024] = "", name[128] = "vlsbench";
  rt_option_get(options, "lib", lib, sizeof lib);
  rt_option_get(options, "app_name", name, sizeof name);
  if (rt_option_get(options, "vcl_config", conf, sizeof conf))
    setenv("VCL_CONFIG", conf, 1);
  int rv = load(lib);
  if (rv < 0)
    return rv;
  /* Mapped before any fork, so forked children count where we read. */
  rv = counters_map();
  if (rv < 0)
    return rv;
  counters_reset();
  /* Before vls_app_create registers VLS's fork handlers. */
  rv = vpp_fork_gate_install();
  if (rv < 0)
    return rv;
  rv = V.app_create(name);
  if (rv < 0)
    return rv;
  tl_registered = 1;
  app_pid = getpid();
  return 0;
}

/* One more accept by the calling thread's VCL worker. */
static void count_accept(void) {
  int w = V.worker_index ? V.worker_index() : 0;
  if (w < 0 || w >= RT_MAX_WORKERS)
    return;
  wrk_counters_t *c = &cnt->wrk[w];
  if (__atomic_load_n(&c->pid, __ATOMIC_RELAXED) != (int32_t)getpid())
    __atomic_store_n(&c->pid, (int32_t)getpid(), __ATOMIC_RELAXED);
  __atomic_store_n(&c->used, 1, __ATOMIC_RELAXED);
  CNT_INC(w, accepts);
}

static int v_app_fini(void) {
  if (getpid() != app_pid) {
    /* A forked child leaves as VPP's own exit handlers would (which its
     * _exit skips): VLS unshares the child's sessions, VCL removes the
     * child's worker and tells VPP. vppcom_app_destroy here would detach
     * the whole app, parent included: the parent's listener then got no
     * more connections (conformance 07 on VPP). */
    if (V.vls_exit)
      V.vls_exit();
    if (V.vcl_exit)
      V.vcl_exit();
    return 0;
  }
  if (V.app_destroy)
    V.app_destroy();
  return 0;
}

static void touch(void) {
  /* vls_* detect new threads themselves; registering explicitly keeps the
   * first call of a thread from paying for it at an odd time. */
  if (!tl_registered) {
    V.register_worker();
    tl_registered = 1;
  }
}

static void to_vpp(const uint8_t *ep, vpp_endpt_t *v, uint8_t *ip16) {
  memset(v, 0, sizeof *v);
  uint16_t port;
  memcpy(&port, ep + 2, 2);
  v->is_ip4 = ep[0] == 4;
  memcpy(ip16, ep + 4, 16);
  v->ip = ip16;
  v->port = (uint16_t)((port >> 8) | (port << 8));
}

static void from_vpp(const vpp_endpt_t *v, uint8_t *ep) {
  memset(ep, 0, VLSB_EP_SIZE);
  ep[0] = v->is_ip4 ? 4 : 6;
  uint16_t port = (uint16_t)((v->port >> 8) | (v->port << 8));
  memcpy(ep + 2, &port, 2);
  memcpy(ep + 4, v->ip, v->is_ip4 ? 4 : 16);
}

static int v_create(int proto, int nb) {
  touch();
  return V.create((uint8_t)proto, (uint8_t)(nb != 0));
}
static int v_bind(int h, const uint8_t *ep) {
  touch();
  vpp_endpt_t v;
  uint8_t ip[16];
  to_vpp(ep, &v, ip);
  return V.bind(h, &v);
}
static int v_listen(int h, int backlog) {
  touch();
  return V.listen(h, backlog);
}
static int v_accept(int h, uint8_t *ep_out, int flags) {
  touch();
  uint8_t ip[16] = {0};
  vpp_endpt_t v = {.ip = ip};
  int rv = V.accept(h, &v, flags);
  if (rv < 0)
    return rv;
  count_accept();
  if (ep_out)
    from_vpp(&v, ep_out);
  return rv;
}
static int v_connect(int h, const uint8_t *ep) {
  touch();
  vpp_endpt_t v;
  uint8_t ip[16];
  to_vpp(ep, &v, ip);
  return V.connect(h, &v);
}
static int v_read(int h, void *buf, int len) {
  touch();
  return (int)V.read(h, buf, (size_t)len);
}
static int v_write(int h, const void *buf, int len) {
  touch();
  return V.write(h, (void *)buf, (size_t)len);
}
static int v_shutdown(int h, int how) {
  touch();
  return V.shutdown(h, how);
}
static int v_close(int h) {
  touch();
  return V.close(h);
}
static int v_attr(int h, int op, int value, uint8_t *ep_out) {
  touch();
  uint32_t len = sizeof(int);
  int rv;
  switch (op) {
  case VLSB_ATTR_GET_NREAD:
    return V.attr(h, VPP_ATTR_GET_NREAD, 0, 0);
  case VLSB_ATTR_GET_FLAGS: {
    int f = 0;
    rv = V.attr(h, VPP_ATTR_GET_FLAGS, &f, &len);
    return rv < 0 ? rv : (f & O_NONBLOCK);
  }
  case VLSB_ATTR_SET_FLAGS:
    return V.attr(h, VPP_ATTR_SET_FLAGS, &value, &len);
  case VLSB_ATTR_SET_REUSEPORT:
    return V.attr(h, VPP_ATTR_SET_REUSEPORT, &value, &len);
  case VLSB_ATTR_SET_TCP_NODELAY:
    return V.attr(h, VPP_ATTR_SET_TCP_NODELAY, &value, &len);
  case VLSB_ATTR_GET_PEER_ADDR:
  case VLSB_ATTR_GET_LCL_ADDR: {
    if (!ep_out)
      return -EINVAL;
    uint8_t ip[16] = {0};
    vpp_endpt_t v = {.ip = ip};
    len = sizeof v;
    rv = V.attr(h, op == VLSB_ATTR_GET_PEER_ADDR ? VPP_ATTR_GET_PEER_ADDR : VPP_ATTR_GET_LCL_ADDR,
                &v, &len);
    if (rv >= 0)
      from_vpp(&v, ep_out);
    return rv < 0 ? rv : 0;
  }
  default:
    return -EINVAL;
  }
}
static int v_epoll_create(void) {
  touch();
  return V.epoll_create();
}
static int v_epoll_ctl(int ep, int op, int h, uint32_t events, uint32_t data) {
  touch();
  struct epoll_event ev = {.events = events, .data.u64 = data};
  return V.epoll_ctl(ep, op, h, &ev);
}
#define WAIT_SLICE_MS 100.0

static int v_epoll_wait(int ep, uint32_t *evs, int max, int timeout_ms) {
  touch();
  enum { BATCH = 256 };
  struct epoll_event kev[BATCH];
  /* VPP waits in milliseconds (a double); a wait for ever is sliced so a
   * stop request is seen. */
  int n;
  for (;;) {
    n = V.epoll_wait(ep, kev, max < BATCH ? max : BATCH, timeout_ms < 0 ? WAIT_SLICE_MS : (double)timeout_ms);
    if (n != 0 || timeout_ms >= 0)
      break;
    if (rt_stop_requested())
      return -EINTR;
  }
  for (int i = 0; i < n; i++) {
    evs[2 * i] = kev[i].events;
    evs[2 * i + 1] = (uint32_t)kev[i].data.u64;
  }
  return n;
}
static int v_worker_register(void) {
  tl_registered = 0;
  touch();
  return V.worker_index ? V.worker_index() : 0;
}
static int v_worker_unregister(void) { return -ENOTSUP; }
static int v_worker_index(void) { return V.worker_index ? V.worker_index() : -1; }

/* VPP's VLS makes each child a worker in its own fork handlers, and cleans
 * up a dead child's worker, but neither counts the fork nor waits for the
 * process: both are done here. */
static int v_fork_workers(int n, int32_t *pids_out, rt_child_body_t body, int arg) {
  int forked = rt_fork_children(n, pids_out, body, arg);
  for (int i = 0; i < forked; i++) {
    if (cnt)
      __atomic_fetch_add(&cnt->forks, 1, __ATOMIC_RELAXED);
    rt_child_record(pids_out[i]);
  }
  return forked;
}

const vlsb_backend_ops_t vpp_backend = {
    .name = "vpp",
    .app_init = v_app_init,
    .app_fini = v_app_fini,
    .create = v_create,
    .bind = v_bind,
    .listen = v_listen,
    .accept = v_accept,
    .connect = v_connect,
    .read = v_read,
    .write = v_write,
    .shutdown = v_shutdown,
    .close = v_close,
    .attr = v_attr,
    .epoll_create = v_epoll_create,
    .epoll_ctl = v_epoll_ctl,
    .epoll_wait = v_epoll_wait,
    .worker_register = v_worker_register,
    .worker_unregister = v_worker_unregister,
    .worker_index = v_worker_index,
    .fork_workers = v_fork_workers,
    .reap_children = rt_children_reap,
};
