/*
 * vpp_fork_gate.c - a workaround of the VPP backend for a race in VPP's VLS
 * fork hand-over (below).
 */

#include "vpp_fork_gate.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <time.h>

/*
 * Fork hand-over gate. VLS's fork handlers (registered by vls_app_create)
 * hand the fork over with one shared flag: the parent's handler raises it
 * once fork() has returned in the parent and waits until the child's
 * handler, done registering the child's worker with VPP, lowers it. When
 * the child gets there first (a loaded machine that runs the child before
 * the parent), the flag is lowered before it is raised and the parent's
 * handler waits for ever: vlsb_fork_echo_workers hung in fork() on VPP
 * 24.06 in about 1 of 10 runs of a loaded 2-core machine, the child
 * already serving. Handlers registered before VLS's run before VLS's, in
 * the parent and in the child: the parent marks here that fork() returned,
 * and the child holds its VLS handler back until it sees the mark, then a
 * margin longer than a scheduling delay for the parent to go on into VLS's
 * handler and raise the flag.
 */
static atomic_uint *fork_gate; /* forks the parent came back from; MAP_SHARED */
static unsigned fork_gate_expect;
#define FORK_GATE_MARGIN_NS 20000000L
#define GATE_STEP_NS 50000L
#define GATE_MAX_STEPS 40000 /* steps of GATE_STEP_NS: at most ~2 s */

static void gate_prepare(void) {
  if (fork_gate)
    fork_gate_expect = atomic_load(fork_gate) + 1;
}

static void gate_parent(void) {
  if (fork_gate)
    atomic_fetch_add(fork_gate, 1);
}

static void gate_child(void) {
  if (!fork_gate)
    return;
  struct timespec step = {0, GATE_STEP_NS};
  for (int i = 0; i < GATE_MAX_STEPS && atomic_load(fork_gate) < fork_gate_expect; i++)
    nanosleep(&step, 0);
  struct timespec margin = {0, FORK_GATE_MARGIN_NS};
  nanosleep(&margin, 0);
}

int vpp_fork_gate_install(void) {
  if (fork_gate)
    return 0;
  void *p = mmap(0, sizeof *fork_gate, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return -errno;
  int rv = pthread_atfork(gate_prepare, gate_parent, gate_child);
  if (rv) {
    munmap(p, sizeof *fork_gate);
    return -rv;
  }
  fork_gate = p;
  return 0;
}
