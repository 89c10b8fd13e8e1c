/*
 * ctest.h - the C tests' tiny harness.
 *
 *   CHECK(cond)        on failure prints file:line and the condition, then
 *                      the closing line "N passed, 1 failed", exits 1;
 *   CHECK_EQ(a, b)     the same, printing both values (integers);
 *   RUN(fn)            runs one test function under a CTEST_TIMEOUT-second
 *                      alarm() watchdog (a hang is a failure, never a hang);
 *   CTEST_END()        prints "N passed, 0 failed" and returns from main.
 *
 * Failures leave with _exit (after flushing): other threads of the test may
 * still be running, and an exit() would run the leak checker over their
 * half-done state and bury the real message.
 */
#ifndef VLSB_CTEST_H
#define VLSB_CTEST_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef CTEST_TIMEOUT
#define CTEST_TIMEOUT 30 /* seconds per RUN */
#endif

static int ctest_passed;
static const char *volatile ctest_current = "?";

static inline void ctest_fail(const char *file, int line, const char *what) {
  fflush(stdout);
  fprintf(stderr, "%s:%d: CHECK failed in %s: %s\n", file, line, ctest_current, what);
  printf("%d passed, 1 failed\n", ctest_passed);
  fflush(stdout);
  fflush(stderr);
  _exit(1);
}

#define CHECK(cond)                                \
  do {                                             \
    if (!(cond))                                   \
      ctest_fail(__FILE__, __LINE__, #cond);       \
  } while (0)

#define CHECK_EQ(a, b)                                                                       \
  do {                                                                                       \
    long long ctest_a_ = (long long)(a), ctest_b_ = (long long)(b);                          \
    if (ctest_a_ != ctest_b_) {                                                              \
      char ctest_m_[512];                                                                    \
      snprintf(ctest_m_, sizeof ctest_m_, "%s == %s (%lld != %lld)", #a, #b, ctest_a_, ctest_b_); \
      ctest_fail(__FILE__, __LINE__, ctest_m_);                                              \
    }                                                                                        \
  } while (0)

/* async-signal-safe: write(2) only */
static inline void ctest_say(const char *s) {
  if (write(2, s, strlen(s)) < 0) {
    /* stderr is gone: nothing to do */
  }
}

static void ctest_watchdog(int sig) {
  (void)sig;
  ctest_say("watchdog: test '");
  ctest_say((const char *)ctest_current);
  ctest_say("' hung\n");
  /* Lock-debug builds install a SIGUSR2 handler that prints which thread
   * holds which VLS lock: ask for it before leaving. */
  struct sigaction old;
  if (sigaction(SIGUSR2, 0, &old) == 0 && !(old.sa_flags & SA_SIGINFO) && old.sa_handler != SIG_DFL &&
      old.sa_handler != SIG_IGN)
    old.sa_handler(SIGUSR2);
  char line[64];
  int n = 0, p = ctest_passed;
  char digits[16];
  int nd = 0;
  do {
    digits[nd++] = (char)('0' + p % 10);
    p /= 10;
  } while (p && nd < 15);
  while (nd)
    line[n++] = digits[--nd];
  const char *rest = " passed, 1 failed\n";
  for (const char *r = rest; *r; r++)
    line[n++] = *r;
  if (write(1, line, (size_t)n) < 0) {
  }
  _exit(3);
}

static inline double ctest_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

#define RUN(fn)                                                  \
  do {                                                           \
    ctest_current = #fn;                                         \
    signal(SIGALRM, ctest_watchdog);                             \
    alarm(CTEST_TIMEOUT);                                        \
    double ctest_t0_ = ctest_ms();                               \
    fn();                                                        \
    alarm(0);                                                    \
    ctest_passed++;                                              \
    fprintf(stderr, "  ok %s (%.0f ms)\n", #fn, ctest_ms() - ctest_t0_); \
  } while (0)

#define CTEST_END()                                  \
  do {                                               \
    printf("%d passed, 0 failed\n", ctest_passed);   \
    fflush(stdout);                                  \
    return 0;                                        \
  } while (0)

#endif
