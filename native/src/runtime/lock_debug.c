/*
 * lock_debug.c - lock-owner tracking for the deadlock watchdog. Only in
 * lock-debug builds (VLSB_LOCK_DEBUG, `--variant debug`): every VLS lock a
 * thread takes is recorded in its slot; SIGUSR2 writes the table to stderr
 * ("which thread holds which lock"). Test runners send SIGUSR2 to a
 * scenario that timed out before they kill it.
 */
#include "locks.h"

#ifdef VLSB_LOCK_DEBUG
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define HELD_MAX 16
typedef struct {
  const void *lock;
  int cls;
  char kind; /* x: exclusive, r: read, w: write */
} held_t;

static struct {
  pid_t tid;
  int n;
  held_t h[HELD_MAX];
} slots[LOCK_SLOTS];

void lock_debug_acquired(const void *lock, int cls, char kind) {
  int s = lock_slot;
  slots[s].tid = gettid();
  if (slots[s].n < HELD_MAX)
    slots[s].h[slots[s].n++] = (held_t){lock, cls, kind};
}

void lock_debug_released(const void *lock) {
  int s = lock_slot;
  for (int i = slots[s].n - 1; i >= 0; i--)
    if (slots[s].h[i].lock == lock) {
      slots[s].h[i] = slots[s].h[--slots[s].n];
      return;
    }
}

/* Debug aid, not async-signal-safe in theory (snprintf); the process is
 * about to be killed anyway. */
static void dump(int sig) {
  (void)sig;
  char buf[8192];
  int len = snprintf(buf, sizeof buf, "vlsb lock owners (pid %d):\n", getpid());
  for (int s = 0; s < LOCK_SLOTS && len < (int)sizeof buf - 200; s++)
    for (int i = 0; i < slots[s].n && len < (int)sizeof buf - 200; i++)
      len += snprintf(buf + len, sizeof buf - (size_t)len, "  thread %d holds %s lock %p (%c)\n", slots[s].tid,
                      lock_class_names[slots[s].h[i].cls], slots[s].h[i].lock, slots[s].h[i].kind);
  if (write(2, buf, (size_t)len) < 0) {
    /* nothing to do: stderr is gone */
  }
}

__attribute__((constructor)) static void lock_debug_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = dump;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR2, &sa, 0);
}
#else
/* Release builds: nothing here (keeps the translation unit non-empty). */
typedef int lock_debug_unused_t;
#endif
