/*
 * echo_main.c - vlsb-echo: the native echo loop over the vlsb ABI as a
 * program, on either backend; the anchor the Bun server is compared with on
 * VPP. Single-threaded, one VCL worker.
 *
 *   vlsb-echo kernel|vpp HOST PORT [APP_OPTIONS]
 * Prints "ready HOST:PORT" once listening; stops on SIGTERM/SIGINT.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vlsb.h"

static void on_stop(int sig) {
  (void)sig;
  vlsb_stop_waits(1);
}

static int parse_ip4(const char *s, uint8_t *out) {
  unsigned a, b, c, d;
  if (sscanf(s, "%u.%u.%u.%u", &a, &b, &c, &d) != 4 || a > 255 || b > 255 || c > 255 || d > 255)
    return -1;
  out[0] = (uint8_t)a;
  out[1] = (uint8_t)b;
  out[2] = (uint8_t)c;
  out[3] = (uint8_t)d;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: vlsb-echo kernel|vpp HOST PORT [APP_OPTIONS]\n");
    return 2;
  }
  int backend = !strcmp(argv[1], "vpp") ? VLSB_BACKEND_VPP : VLSB_BACKEND_KERNEL;
  uint8_t ep[VLSB_EP_SIZE] = {4};
  uint16_t port = (uint16_t)atoi(argv[3]);
  memcpy(ep + 2, &port, 2);
  if (parse_ip4(argv[2], ep + 4) < 0) {
    fprintf(stderr, "vlsb-echo: HOST must be an IPv4 address\n");
    return 2;
  }
  struct sigaction sa = {.sa_handler = on_stop};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, 0);
  sigaction(SIGINT, &sa, 0);
  int rv = vlsb_app_init(backend, VLSB_MODE_SINGLE, argc > 4 ? argv[4] : "");
  int h = rv < 0 ? rv : vlsb_create(VLSB_PROTO_TCP, 1);
  if (h >= 0 && (rv = vlsb_bind(h, ep)) == 0)
    rv = vlsb_listen(h, 1024);
  if (h < 0 || rv < 0) {
    fprintf(stderr, "vlsb-echo: %s\n", vlsb_strerror(h < 0 ? h : rv));
    return 1;
  }
  printf("ready %s:%u\n", argv[2], port);
  fflush(stdout);
  rv = vlsb_echo_loop(h);
  vlsb_close(h);
  vlsb_app_fini();
  return rv < 0 && rv != -EINTR ? 1 : 0;
}
