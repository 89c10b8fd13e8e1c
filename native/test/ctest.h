/*
 * ctest.h - the C tests' tiny harness: CHECK aborts the test with file and
 * line, a watchdog alarm bounds every binary, and the end prints the plain
 * "N passed, N failed" line.
 */
#ifndef VLSB_CTEST_H
#define VLSB_CTEST_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int ctest_passed, ctest_failed;

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
      ctest_failed++;                                                            \
      printf("%d passed, %d failed\n", ctest_passed, ctest_failed);             \
      exit(1);                                                                   \
    }                                                                            \
  } while (0)

static void ctest_watchdog(int sig) {
  (void)sig;
  static const char msg[] = "watchdog: test hung (lock owners, debug builds: SIGUSR2)\n";
  if (write(2, msg, sizeof msg - 1) < 0) {
  }
  _exit(3);
}

/* Runs one test function, bounded by `seconds`. */
#define RUN(fn, seconds)                        \
  do {                                          \
    signal(SIGALRM, ctest_watchdog);            \
    alarm(seconds);                             \
    fn();                                       \
    alarm(0);                                   \
    ctest_passed++;                             \
    fprintf(stderr, "  ok %s\n", #fn);          \
  } while (0)

#define CTEST_END()                                              \
  do {                                                           \
    printf("%d passed, %d failed\n", ctest_passed, ctest_failed); \
    return ctest_failed ? 1 : 0;                                 \
  } while (0)

#endif
