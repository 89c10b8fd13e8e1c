/*
 * counters.h - counters both backends keep (the VPP backend only what it
 * can see: accepts and forks). Per-worker counters live in a MAP_SHARED region mapped once per process lifetime, so forked
 * process-mode workers count where the parent can read them.
 */
#ifndef VLSB_COUNTERS_H
#define VLSB_COUNTERS_H

#include <stdint.h>
#include <sys/types.h>

#include "runtime.h"

typedef struct {
  uint64_t accepts, msgs_in, msgs_out, bytes_in, bytes_out, errors;
  uint64_t migrations_ok, migrations_failed, migrations_timeout;
  uint64_t rpcs_sent, rpcs_served, cleanups_sent;
  uint64_t listener_starts;
  uint64_t syscalls, epoll_waits; /* made by the core for this worker */
  int32_t pid;
  int32_t used; /* this worker index was ever registered in this app */
} wrk_counters_t;

typedef struct {
  wrk_counters_t wrk[RT_MAX_WORKERS];
  uint64_t child_cleanups;
  uint64_t forks;
} counters_shm_t;

extern counters_shm_t *cnt;

int counters_map(void);  /* maps the region once; -errno on failure */
void counters_reset(void);

#define CNT_ADD(w, field, n) __atomic_fetch_add(&cnt->wrk[(w)].field, (uint64_t)(n), __ATOMIC_RELAXED)
#define CNT_INC(w, field) CNT_ADD(w, field, 1)

void rpc_latency_record(double ns);
/* Drains up to max recorded RPC latencies (ns) into out (vlsb_rpc_latencies). */
int rpc_latencies_drain(double *out, int max);
/* The snapshot as JSON (vlsb_counters_json); the app's backend and mode
 * are the ABI's to say. */
int counters_json(char *buf, int cap, int backend, int mode);

#endif
