/*
 * backend.h - the table of operations behind the ABI. abi.c picks one at
 * vlsb_app_init: the embedded kernel backend (vls.c) or libvppcom (vpp.c).
 */
#ifndef VLSB_BACKEND_H
#define VLSB_BACKEND_H

#include <stdint.h>

typedef struct {
  const char *name;
  int (*app_init)(int mode, const char *options);
  int (*app_fini)(void);
  int (*create)(int proto, int nonblocking);
  int (*bind)(int h, const uint8_t *ep);
  int (*listen)(int h, int backlog);
  int (*accept)(int h, uint8_t *ep_out, int flags);
  int (*connect)(int h, const uint8_t *ep);
  int (*read)(int h, void *buf, int len);
  int (*write)(int h, const void *buf, int len);
  int (*shutdown)(int h, int how);
  int (*close)(int h);
  int (*attr)(int h, int op, int value, uint8_t *ep_out);
  int (*epoll_create)(void);
  int (*epoll_ctl)(int ep, int op, int h, uint32_t events, uint32_t data);
  int (*epoll_wait)(int ep, uint32_t *evs, int max, int timeout_ms);
  int (*worker_register)(void);
  int (*worker_unregister)(void);
  int (*worker_index)(void);
} vlsb_backend_ops_t;

extern const vlsb_backend_ops_t kernel_backend;
extern const vlsb_backend_ops_t vpp_backend;

/* Looks up "key=" in an options string; copies the value (NUL-terminated)
 * into out. Returns 1 when found. */
int option_get(const char *options, const char *key, char *out, int cap);

#endif
