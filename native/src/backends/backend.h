/*
 * backend.h - the table of operations behind the ABI. abi.c picks one at
 * vlsb_app_init: the embedded model (kernel_backend.c over model/vls.c) or
 * libvppcom (vpp_backend.c). Only the two backend files know which backend
 * runs; everything else goes through this table.
 */
#ifndef VLSB_BACKEND_H
#define VLSB_BACKEND_H

#include <stdint.h>

#include "runtime.h"

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
  /* Process mode: forks n workers that run body(arg) (runtime.h), counting
   * the forks and keeping what reap_children needs. */
  int (*fork_workers)(int n, int32_t *pids_out, rt_child_body_t body, int arg);
  /* Cleans up after the exited forked workers; returns how many. */
  int (*reap_children)(void);
} vlsb_backend_ops_t;

extern const vlsb_backend_ops_t kernel_backend;
extern const vlsb_backend_ops_t vpp_backend;

#endif
