/* Shared by the benchmark probes: a stop flag set by SIGINT/SIGTERM and clock readings in ns.
 * Header-only (static functions): each probe is built from its one .c file by bench/lib/build-c.ts. */
#ifndef COROLISTENER_BENCH_PROBE_H
#define COROLISTENER_BENCH_PROBE_H

#include <signal.h>
#include <stdint.h>
#include <time.h>

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static uint64_t now_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
