/*
 * fork_bad_args.c - vlsb_fork_echo_workers checks its listener before it
 * forks: a negative handle is -EINVAL, a handle of no session -EBADFD, and
 * in neither case is any child forked (the "forks" counter stays 0; a child
 * forked with no listener used to be counted and returned as a worker).
 */
#include "vtest.h"

static void bad_listener_forks_nothing(void) {
  CHECK_EQ(vlsb_app_init(VLSB_BACKEND_KERNEL, VLSB_MODE_PROCESS, ""), 0);
  int32_t pids[2] = {0, 0};
  CHECK_EQ(vlsb_fork_echo_workers(-1, 1, pids), -EINVAL);
  CHECK_EQ(vlsb_fork_echo_workers(-7, 2, pids), -EINVAL);
  CHECK_EQ(vlsb_fork_echo_workers(12345, 1, pids), -EBADFD);
  CHECK_EQ(counter_sum("\"forks\":"), 0);
  CHECK_EQ(pids[0], 0);
  CHECK_EQ(pids[1], 0);
  CHECK_EQ(vlsb_app_fini(), 0);
}

int main(void) {
  RUN(bad_listener_forks_nothing);
  CTEST_END();
}
