/*
 * c_pingpong.c - the load generator's CPU anchor: a minimal closed-loop
 * ping-pong client straight on Linux sockets, no VLS. One thread, one epoll
 * set, N connections with one message in flight each; every echoed byte is
 * checked against what was sent. bench:cpu compares vlsbench's load
 * generator (and, driven by this client, every server) with it.
 *
 * Usage: c-pingpong PORT [connections=32] [size=64] [warmup_s=1] [duration_s=2]
 * Prints "measuring" when the warm-up ends (bench:cpu samples a server's
 * CPU then), and at the end of the window one JSON line:
 *   {"messages":N,"total":T,"seconds":S,"userUs":U,"sysUs":Y,"errors":E}
 * messages are the echoes completed inside the window (total: since the
 * first message, warm-up included), userUs/sysUs this
 * process's own CPU time over it (getrusage). Exits 1 on any error.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 4096
#define MAX_SIZE 65536

typedef struct {
  int fd;
  uint32_t seq; /* the message in flight */
  size_t got;   /* bytes of its echo received */
} conn_t;

static conn_t conns[MAX_CONNS];
static unsigned char out[MAX_SIZE], in[MAX_SIZE];

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Byte i of message seq on connection c: differs per connection, message
 * and position, so a lost, duplicated or misrouted byte shows. */
static unsigned char pattern(int c, uint32_t seq, size_t i) {
  return (unsigned char)((uint32_t)c * 131u + seq * 7u + (uint32_t)i);
}

/* Writes message seq of connection c whole (waiting on the socket if full); 0 or -1. */
static int send_msg(int c, size_t size) {
  for (size_t i = 0; i < size; i++)
    out[i] = pattern(c, conns[c].seq, i);
  size_t off = 0;
  while (off < size) {
    ssize_t w = write(conns[c].fd, out + off, size - off);
    if (w < 0 && errno == EAGAIN) {
      struct pollfd p = {.fd = conns[c].fd, .events = POLLOUT};
      poll(&p, 1, 1000);
      continue;
    }
    if (w <= 0)
      return -1;
    off += (size_t)w;
  }
  conns[c].got = 0;
  return 0;
}

static void cpu_us(double *user, double *sys) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  *user = (double)u.ru_utime.tv_sec * 1e6 + (double)u.ru_utime.tv_usec;
  *sys = (double)u.ru_stime.tv_sec * 1e6 + (double)u.ru_stime.tv_usec;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: c-pingpong PORT [connections] [size] [warmup_s] [duration_s]\n");
    return 2;
  }
  int port = atoi(argv[1]);
  int n = argc > 2 ? atoi(argv[2]) : 32;
  size_t size = argc > 3 ? (size_t)atol(argv[3]) : 64;
  double warmup = argc > 4 ? atof(argv[4]) : 1;
  double duration = argc > 5 ? atof(argv[5]) : 2;
  if (port <= 0 || port > 65535 || n < 1 || n > MAX_CONNS || size < 1 || size > MAX_SIZE || warmup < 0 || duration <= 0) {
    fprintf(stderr, "c-pingpong: bad arguments (port 1-65535, connections 1-%d, size 1-%d)\n", MAX_CONNS, MAX_SIZE);
    return 2;
  }
  int ep = epoll_create1(0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  for (int c = 0; c < n; c++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
      fprintf(stderr, "c-pingpong: connect: %s\n", strerror(errno));
      return 1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    conns[c] = (conn_t){.fd = fd};
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)c};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  long errors = 0, messages = 0, total = 0;
  for (int c = 0; c < n; c++)
    if (send_msg(c, size) != 0)
      errors++;
  double t0 = now_s(), ws = t0 + warmup, we = ws + duration;
  double u0 = 0, s0 = 0, t = t0;
  int measuring = 0;
  struct epoll_event evs[256];
  while (!errors && t < we) {
    int k = epoll_wait(ep, evs, 256, 100);
    t = now_s();
    if (!measuring && t >= ws) {
      measuring = 1;
      cpu_us(&u0, &s0);
      ws = t;
      we = ws + duration;
      printf("measuring\n");
      fflush(stdout);
    }
    for (int i = 0; i < k; i++) {
      int c = (int)evs[i].data.u32;
      ssize_t r = read(conns[c].fd, in, size - conns[c].got);
      if (r < 0 && errno == EAGAIN)
        continue;
      if (r <= 0) {
        fprintf(stderr, "c-pingpong: connection %d: %s\n", c, r == 0 ? "closed by the server" : strerror(errno));
        errors++;
        break;
      }
      for (ssize_t j = 0; j < r; j++)
        if (in[j] != pattern(c, conns[c].seq, conns[c].got + (size_t)j)) {
          fprintf(stderr, "c-pingpong: connection %d message %u byte %zu differs\n", c, conns[c].seq, conns[c].got + (size_t)j);
          errors++;
          break;
        }
      conns[c].got += (size_t)r;
      if (conns[c].got < size)
        continue;
      total++;
      if (measuring)
        messages++;
      conns[c].seq++;
      if (send_msg(c, size) != 0)
        errors++;
    }
  }
  double u1, s1;
  cpu_us(&u1, &s1);
  double secs = now_s() - ws;
  if (!measuring)
    u1 = s1 = u0 = s0 = secs = 0;
  printf("{\"messages\":%ld,\"total\":%ld,\"seconds\":%.6f,\"userUs\":%.0f,\"sysUs\":%.0f,\"errors\":%ld}\n", messages, total, secs, u1 - u0, s1 - s0, errors);
  fflush(stdout);
  return errors ? 1 : 0;
}
