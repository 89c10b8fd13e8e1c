/*
 * runtime.h - the ground floor of the native core: what the ABI (abi.c),
 * both backends and the embedded model share, using none of them. The
 * clock, the process's stop flag, "key=value" options, and the forked
 * children of the process. The counters region (counters.h) and the lock
 * primitives (locks.h) are on this floor too.
 */
#ifndef VLSB_RUNTIME_H
#define VLSB_RUNTIME_H

#include <stdint.h>
#include <sys/types.h>

/* VCL workers one app can have (threads, or forked processes), on either
 * backend: sizes the per-worker counters and the model's worker table. */
#define RT_MAX_WORKERS 64

/* Monotonic clock in nanoseconds, as a double (exact to 2^53 ns). */
double rt_now_ns(void);

/* The process's stop flag: once set, every blocking wait of the embedded
 * model returns -EINTR, and loops check it between waits. */
void rt_stop_set(int stop);
int rt_stop_requested(void);

/* Looks up "key=" in an options string ("k=v;k=v"); copies the value
 * (NUL-terminated) into out. Returns 1 when found. */
int rt_option_get(const char *options, const char *key, char *out, int cap);

/* What a forked child runs; its return value < 0 makes the child exit 1. */
typedef int (*rt_child_body_t)(int arg);

/* Forks n children that each run body(arg) until it returns, then _exit.
 * A child dies with its parent (SIGTERM) and stops on SIGTERM or SIGINT
 * (the stop flag). pids_out receives the pids. Returns n, or -errno when
 * a fork failed: the children forked before it are then killed and waited
 * for (their pids_out slots are 0), so it is all n children or none. */
int rt_fork_children(int n, int32_t *pids_out, rt_child_body_t body, int arg);

/* A registry of children for a backend whose own layer never waits for
 * them: record each, and reap the exited ones (returns how many). */
void rt_child_record(pid_t pid);
int rt_children_reap(void);

/* Whoever reaps a child notes its exit (pid, wait status) here; drained
 * by vlsb_child_exits (pairs into out, at most max; returns how many). */
void rt_child_exit_note(pid_t pid, int status);
int rt_child_exits_drain(int32_t *out, int max);

#endif
