/*
 * c_echo.c - the physical-limit anchor: a minimal single-threaded epoll echo
 * server straight on Linux sockets, no VLS. bench/ drives it and the vlsbench
 * server alike. Usage: c-echo [port] [--blocking] ; prints "ready 127.0.0.1:PORT".
 *
 * --blocking: one thread per connection doing blocking read and write, no
 * epoll (2 syscalls per echo instead of 3): the same structure as
 * `sockperf server` with one client, so bench:accuracy compares the two
 * clients against servers that cost the same.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_sig(int s) {
  (void)s;
  stop = 1;
}

/* Echoes one blocking connection until it closes or fails. */
static void *echo_blocking(void *arg) {
  int fd = (int)(intptr_t)arg;
  char buf[65536];
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r <= 0)
      break;
    ssize_t off = 0;
    while (off < r) {
      ssize_t w = write(fd, buf + off, (size_t)(r - off));
      if (w <= 0)
        goto out;
      off += w;
    }
  }
out:
  close(fd);
  return 0;
}

/* Accepts until stopped; each connection gets a detached blocking thread. */
static void serve_blocking(int l) {
  int one = 1;
  while (!stop) {
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(l, &rs);
    struct timeval tv = {.tv_usec = 200000};
    if (select(l + 1, &rs, 0, 0, &tv) <= 0)
      continue;
    int c = accept4(l, 0, 0, 0);
    if (c < 0)
      continue;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    pthread_t t;
    if (pthread_create(&t, 0, echo_blocking, (void *)(intptr_t)c) == 0)
      pthread_detach(t);
    else
      close(c);
  }
}

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 0;
  int blocking = argc > 2 && strcmp(argv[2], "--blocking") == 0;
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {.sa_handler = on_sig};
  sigaction(SIGTERM, &sa, 0);
  sigaction(SIGINT, &sa, 0);
  int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, SOMAXCONN)) {
    fprintf(stderr, "c-echo: %s\n", strerror(errno));
    return 2;
  }
  socklen_t al = sizeof a;
  getsockname(l, (struct sockaddr *)&a, &al);
  printf("ready 127.0.0.1:%d\n", ntohs(a.sin_port));
  fflush(stdout);
  if (blocking) {
    serve_blocking(l);
    return 0;
  }
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = l};
  epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
  static char buf[65536];
  struct epoll_event evs[256];
  while (!stop) {
    int n = epoll_wait(ep, evs, 256, 200);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == l) {
        int c;
        while ((c = accept4(l, 0, 0, SOCK_NONBLOCK)) >= 0) {
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
        }
        continue;
      }
      ssize_t r = read(fd, buf, sizeof buf);
      if (r <= 0) {
        if (r < 0 && errno == EAGAIN)
          continue;
        close(fd);
        continue;
      }
      /* An echo of at most 64 KiB in flight per read: write it all, waiting
       * on the socket when full (the anchor stays minimal on purpose). */
      ssize_t off = 0;
      while (off < r) {
        ssize_t w = write(fd, buf + off, (size_t)(r - off));
        if (w < 0 && errno == EAGAIN) {
          fd_set ws;
          FD_ZERO(&ws);
          FD_SET(fd, &ws);
          select(fd + 1, 0, &ws, 0, 0);
          continue;
        }
        if (w <= 0)
          break;
        off += w;
      }
    }
  }
  return 0;
}
