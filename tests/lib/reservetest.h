/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Drives tests/lib/reserve-client (a critical client on libmemctl) from a test or a benchmark: it
 * joins a cgroup, says "ready", waits for "go" on stdin, then leases (or, with --anon, allocates)
 * and writes memory, reporting on stdout (see reserve-client.c).
 */
#include <glib.h>
#include <stdint.h>

#include "tests/lib/bustest.h"

typedef struct {
    GPid pid;
    int in, out, err;
    char buf[4096];
    size_t len;
} ReserveClient;

/* Starts the client in cgroup with --bytes `bytes` and the extra args, on the test's bus. */
void reserve_client_start(ReserveClient *c, ApiTest *t, const char *cgroup, uint64_t bytes,
                          const char *const *extra);
/* The next stdout line that starts with prefix (others are skipped), or NULL after timeout_ms or
 * when the client closed its stdout. */
char *reserve_client_line(ReserveClient *c, const char *prefix, int timeout_ms);
/* What it wrote on stderr so far. */
char *reserve_client_stderr(ReserveClient *c);
/* Sends "go". */
void reserve_client_go(ReserveClient *c);
/* Sends one line (a --commands command: "release", "check", "verify 171", "scribble 238", "quit"). */
void reserve_client_send(ReserveClient *c, const char *command);
/* Sends a command and returns the answer line that starts with `answer`; fails the test (with the
 * client's stderr) when none comes within timeout_ms. */
char *reserve_client_ask(ReserveClient *c, const char *command, const char *answer, int timeout_ms);
/* Waits up to timeout_ms for its exit: the wait status (its pipes closed), or -1. */
int reserve_client_wait(ReserveClient *c, int timeout_ms);
/* SIGKILL and reap. */
int reserve_client_kill(ReserveClient *c);
