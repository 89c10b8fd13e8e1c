/*
 * callbench_main.c - vlsb-callbench: N calls of one ABI function in a
 * one-thread single-mode app, for instruction counting under callgrind
 * (bench/micro.ts runs it for the release and nolocks builds at two N and
 * takes the difference, so start-up cancels out).
 *
 *   vlsb-callbench attr|read|epoll_wait|create_close N
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vlsb.h"

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: vlsb-callbench attr|read|epoll_wait|create_close N\n");
    return 2;
  }
  long n = atol(argv[2]);
  if (vlsb_app_init(VLSB_BACKEND_KERNEL, VLSB_MODE_SINGLE, "") < 0)
    return 1;
  int s = vlsb_create(VLSB_PROTO_TCP, 1);
  int ep = vlsb_epoll_create();
  char buf[64];
  uint32_t evs[16];
  long sink = 0;
  const char *what = argv[1];
  if (!strcmp(what, "attr"))
    for (long i = 0; i < n; i++)
      sink += vlsb_attr(s, VLSB_ATTR_GET_FLAGS, 0, 0);
  else if (!strcmp(what, "read"))
    for (long i = 0; i < n; i++)
      sink += vlsb_read(s, buf, sizeof buf); /* not connected: the full guard path */
  else if (!strcmp(what, "epoll_wait"))
    for (long i = 0; i < n; i++)
      sink += vlsb_epoll_wait(ep, evs, 8, 0);
  else if (!strcmp(what, "create_close"))
    for (long i = 0; i < n; i++)
      sink += vlsb_close(vlsb_create(VLSB_PROTO_TCP, 1));
  else
    return 2;
  printf("%ld\n", sink);
  vlsb_app_fini();
  return 0;
}
