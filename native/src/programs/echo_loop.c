/*
 * echo_loop.c - the native echo loop over the vlsb ABI: what a process-mode
 * worker (a forked child, which cannot run JS) runs, and what the C tests
 * use as a reference server. Same rules as the TypeScript server: a partial
 * write keeps only the unsent rest and stops reading that connection until
 * it drains (bounded memory per connection).
 */

#include "echo_loop.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "vlsb.h"

#define LISTENER_TAG 0xffffffffu
#define BUF_SIZE 65536
#define MAX_EVENTS 256
#define FIRST_TABLE_CAP 256
#define WAIT_MS 200 /* a stop request is seen at least this often */

typedef struct {
  int h;
  int pend_off, pend_len; /* unsent rest, in pend */
  char *pend;
} echo_conn_t;

typedef struct {
  echo_conn_t *c;
  uint32_t n, cap;
  uint32_t *free_slots;
  uint32_t n_free;
} echo_table_t;

static int slot_new(echo_table_t *t, int h) {
  uint32_t s;
  if (t->n_free) {
    s = t->free_slots[--t->n_free];
  } else {
    if (t->n == t->cap) {
      uint32_t ncap = t->cap ? t->cap * 2 : FIRST_TABLE_CAP;
      echo_conn_t *nc = realloc(t->c, ncap * sizeof *nc);
      if (!nc)
        return -ENOMEM;
      t->c = nc;
      uint32_t *nf = realloc(t->free_slots, ncap * sizeof *nf);
      if (!nf)
        return -ENOMEM;
      t->free_slots = nf;
      t->cap = ncap;
    }
    s = t->n++;
  }
  t->c[s] = (echo_conn_t){.h = h};
  return (int)s;
}

static void slot_close(echo_table_t *t, uint32_t s) {
  vlsb_close(t->c[s].h);
  free(t->c[s].pend);
  t->c[s] = (echo_conn_t){.h = -1};
  t->free_slots[t->n_free++] = s;
}

/* Echoes what is readable on slot s. Returns 0 to keep, -1 to close. */
static int echo_conn(echo_table_t *t, int ep, uint32_t s, char *buf, uint32_t events) {
  echo_conn_t *c = &t->c[s];
  if (c->pend_len) {
    int w = vlsb_write(c->h, c->pend + c->pend_off, c->pend_len);
    if (w == -EAGAIN)
      return 0;
    if (w < 0)
      return -1;
    c->pend_off += w;
    c->pend_len -= w;
    if (c->pend_len)
      return 0;
    vlsb_epoll_ctl(ep, EPOLL_CTL_MOD, c->h, EPOLLIN | EPOLLRDHUP, s);
  }
  for (;;) {
    int r = vlsb_read(c->h, buf, BUF_SIZE);
    if (r == -EAGAIN)
      return (events & (EPOLLHUP | EPOLLERR)) ? -1 : 0;
    if (r <= 0)
      return -1;
    int w = vlsb_write(c->h, buf, r);
    if (w == -EAGAIN)
      w = 0;
    if (w < 0)
      return -1;
    if (w < r) {
      /* Backpressure: keep only the rest, wait for space, read no more. */
      char *p = realloc(c->pend, (size_t)(r - w));
      if (!p)
        return -1;
      memcpy(p, buf + w, (size_t)(r - w));
      c->pend = p;
      c->pend_off = 0;
      c->pend_len = r - w;
      vlsb_epoll_ctl(ep, EPOLL_CTL_MOD, c->h, EPOLLOUT | EPOLLRDHUP, s);
      return 0;
    }
    if (r < BUF_SIZE)
      return 0;
  }
}

int echo_loop_run(int lh) {
  int ep = vlsb_epoll_create();
  if (ep < 0)
    return ep;
  int rv = vlsb_epoll_ctl(ep, EPOLL_CTL_ADD, lh, EPOLLIN, LISTENER_TAG);
  if (rv < 0) {
    vlsb_close(ep);
    return rv;
  }
  echo_table_t t = {0};
  char *buf = malloc(BUF_SIZE);
  uint32_t evs[2 * MAX_EVENTS];
  while (buf && !vlsb_stop_requested()) {
    int n = vlsb_epoll_wait(ep, evs, MAX_EVENTS, WAIT_MS);
    if (n == -EINTR)
      break;
    if (n < 0) {
      rv = n;
      break;
    }
    for (int i = 0; i < n; i++) {
      uint32_t e = evs[2 * i], d = evs[2 * i + 1];
      if (d == LISTENER_TAG) {
        for (;;) {
          int h = vlsb_accept(lh, 0, O_NONBLOCK);
          if (h < 0)
            break;
          int s = slot_new(&t, h);
          if (s < 0 || vlsb_epoll_ctl(ep, EPOLL_CTL_ADD, h, EPOLLIN | EPOLLRDHUP, (uint32_t)s) < 0) {
            if (s >= 0)
              slot_close(&t, (uint32_t)s);
            else
              vlsb_close(h);
          }
        }
        continue;
      }
      if (d < t.n && t.c[d].h >= 0 && echo_conn(&t, ep, d, buf, e) < 0)
        slot_close(&t, d);
    }
  }
  for (uint32_t s = 0; s < t.n; s++)
    if (t.c[s].h >= 0)
      slot_close(&t, s);
  free(t.c);
  free(t.free_slots);
  free(buf);
  vlsb_close(ep);
  return rv < 0 ? rv : 0;
}
