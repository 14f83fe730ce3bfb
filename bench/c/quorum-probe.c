/*
 * quorum-probe: the lower bound for reacting to a quorum change from user space. A minimal
 * libquorum client (the same quorum model v1 and tracking flags as corolistener's addon) that
 * waits in poll() on the quorum fd and, on each notification, prints the time it was called.
 *
 * Output, one line per event (stdout, line-buffered):
 *   ready
 *   quorum <mono_ns> <real_ns> <quorate 0|1> <ring_nodeid> <ring_seq> <member,member,...>
 * mono_ns is CLOCK_MONOTONIC (system-wide, the clock of Node's process.hrtime.bigint()),
 * real_ns CLOCK_REALTIME, both read first thing in the callback.
 *
 * Built by the benchmark: cc -O2 quorum-probe.c $(pkg-config --cflags --libs libquorum)
 * Exits 0 on SIGTERM/SIGINT, 1 when corosync goes away or an API call fails.
 */
#include <corosync/corotypes.h>
#include <corosync/quorum.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probe.h"

static void on_quorum(quorum_handle_t handle, uint32_t quorate, struct quorum_ring_id ring_id,
                      uint32_t member_count, const uint32_t *members) {
  uint64_t mono = now_ns(CLOCK_MONOTONIC);
  uint64_t real = now_ns(CLOCK_REALTIME);
  (void)handle;
  printf("quorum %" PRIu64 " %" PRIu64 " %u %u %" PRIu64 " ", mono, real, quorate ? 1u : 0u,
         ring_id.nodeid, ring_id.seq);
  for (uint32_t i = 0; i < member_count; i++) printf(i == 0 ? "%u" : ",%u", members[i]);
  printf("\n");
}

/* Registered like the addon does, so corosync sends both clients the same messages. */
static void on_nodelist(quorum_handle_t handle, struct quorum_ring_id ring_id, uint32_t member_count,
                        const uint32_t *members, uint32_t joined_count, const uint32_t *joined,
                        uint32_t left_count, const uint32_t *left) {
  (void)handle, (void)ring_id, (void)member_count, (void)members;
  (void)joined_count, (void)joined, (void)left_count, (void)left;
}

static int fail(const char *what, cs_error_t err) {
  fprintf(stderr, "quorum-probe: %s failed: cs_error_t %d\n", what, (int)err);
  return 1;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  quorum_model_v1_data_t model;
  memset(&model, 0, sizeof model);
  model.model = QUORUM_MODEL_V1;
  model.quorum_notify_fn = on_quorum;
  model.nodelist_notify_fn = on_nodelist;
  quorum_handle_t handle;
  uint32_t quorum_type = 0;
  cs_error_t err = quorum_model_initialize(&handle, QUORUM_MODEL_V1, (quorum_model_data_t *)&model,
                                           &quorum_type, NULL);
  if (err != CS_OK) return fail("quorum_model_initialize", err);
  err = quorum_trackstart(handle, CS_TRACK_CURRENT | CS_TRACK_CHANGES);
  if (err != CS_OK) return fail("quorum_trackstart", err);
  int fd = -1;
  err = quorum_fd_get(handle, &fd);
  if (err != CS_OK) return fail("quorum_fd_get", err);
  printf("ready\n");

  int status = 0;
  while (!stop_requested) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN, .revents = 0};
    int n = poll(&pfd, 1, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("quorum-probe: poll");
      status = 1;
      break;
    }
    if (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) {
      fprintf(stderr, "quorum-probe: corosync hung up\n");
      status = 1;
      break;
    }
    err = quorum_dispatch(handle, CS_DISPATCH_ALL);
    if (err != CS_OK && err != CS_ERR_TRY_AGAIN) {
      status = fail("quorum_dispatch", err);
      break;
    }
  }
  quorum_finalize(handle);
  return status;
}
