/*
 * fork_partial_failure.c - a fork that fails part-way (the test hook
 * VLSB_TEST_FORK_FAIL_AT, as when a process limit is hit) makes
 * vlsb_fork_echo_workers fail with the fork's error and leave no child:
 * the ones already forked are killed and reaped, and their workers are
 * cleaned up. It used to return the count forked so far (pids after it
 * 0), which a caller that asked for 4 took as 4 workers.
 */
#include <sys/wait.h>

#include "vtest.h"

static void partial_fork_leaves_no_child(void) {
  CHECK_EQ(setenv("VLSB_TEST_FORK_FAIL_AT", "2", 1), 0);
  CHECK_EQ(vlsb_app_init(VLSB_BACKEND_KERNEL, VLSB_MODE_PROCESS, ""), 0);
  uint8_t lep[VLSB_EP_SIZE];
  int l = make_listener(1, lep);
  int32_t pids[4] = {0, 0, 0, 0};
  fflush(stdout);
  fflush(stderr);
  CHECK_EQ(vlsb_fork_echo_workers(l, 4, pids), -EAGAIN);
  for (int i = 0; i < 4; i++)
    CHECK_EQ(pids[i], 0);
  /* no child left, not even a zombie */
  errno = 0;
  CHECK_EQ(waitpid(-1, 0, WNOHANG), -1);
  CHECK_EQ(errno, ECHILD);
  CHECK_EQ(counter_sum("\"childCleanups\":"), 2);
  /* the parent's app is intact: one fork works again */
  CHECK_EQ(unsetenv("VLSB_TEST_FORK_FAIL_AT"), 0);
  CHECK_EQ(vlsb_fork_echo_workers(l, 1, pids), 1);
  CHECK(pids[0] > 0);
  CHECK_EQ(kill(pids[0], SIGTERM), 0);
  int st = 0;
  while (waitpid(pids[0], &st, 0) < 0 && errno == EINTR) {
  }
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  CHECK_EQ(vlsb_close(l), 0);
  CHECK_EQ(vlsb_app_fini(), 0);
}

int main(void) {
  RUN(partial_fork_leaves_no_child);
  CTEST_END();
}
