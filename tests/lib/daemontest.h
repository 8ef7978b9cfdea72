/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Runs memctld (and memhog) as children of a test, on a real cgroup2 hierarchy. */

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct {
    GPid pid;
    char *root;     /* the managed root */
    char *kill_log; /* JSON lines */
    char *tmpdir;
    char *log; /* memctld's stdout and stderr */
} DaemonTest;

/* Path of a built binary: $MEMCTL_BUILD_ROOT/<rel>. */
char *daemontest_binary(const char *rel);

/*
 * Starts memctld with --root <root> --kill-log <tmp> and the extra args (NULL-terminated), and waits
 * for READY=1 on a private NOTIFY_SOCKET. Asserts it comes within 30 s.
 */
void daemontest_start(DaemonTest *t, const char *root, const char *const *args);

/* The port memctld serves /metrics on, from its log (it was started with
 * --metrics-address=127.0.0.1:0). Fails the test when it does not say within 5 s. */
int daemontest_metrics_port(DaemonTest *t);

/* Runs memctld to completion with args; returns its exit status and its stderr. */
int daemontest_run_fail(const char *root, const char *const *args, char **ret_stderr);

/* SIGTERM and reap; asserts a clean exit. Removes the temp dir. */
void daemontest_stop(DaemonTest *t);
/* A crash: SIGKILL and reap; returns memctld's output until then (to free). Removes the temp dir. */
char *daemontest_crash(DaemonTest *t);

/* Waits until the kill log has a line containing all of the given substrings; returns it or NULL. */
char *daemontest_wait_record(DaemonTest *t, int timeout_ms, const char *needle1, const char *needle2);

/* Number of kill-log lines containing needle. */
guint daemontest_count_records(DaemonTest *t, const char *needle);

/* The first whole line of text (one that ends in a newline) containing n1 and n2 (NULL: any), or
 * NULL. A kill log read while memctld appends to it can end in a line it has not finished: such a
 * line is no record yet. */
char *daemontest_find_record(const char *text, const char *n1, const char *n2);
/* The number of whole lines of text containing needle. */
guint daemontest_count_lines(const char *text, const char *needle);

/* Waits up to timeout_ms until at least n lines contain needle; returns the count then. */
guint daemontest_wait_count(DaemonTest *t, const char *needle, guint n, int timeout_ms);

/* Occurrences of needle in memctld's own output (t->log). */
guint daemontest_count_log(DaemonTest *t, const char *needle);

/* Waits up to timeout_ms until needle occurs at least n times in memctld's output; returns the
 * count then. */
guint daemontest_wait_log(DaemonTest *t, const char *needle, guint n, int timeout_ms);

typedef struct {
    GPid pid;
    int out_fd, err_fd;
} Hog;

/* Starts memhog with args (NULL-terminated) and waits until it printed "ready". */
void hog_start(Hog *h, const char *const *args);
/* The same for another workload of the build tree (binary: "tests/lib/service"). */
void workload_start(Hog *h, const char *binary, const char *const *args);
/* Waits up to timeout_ms for the hog to exit; returns the wait status, or -1 if it is still running. */
int hog_wait(Hog *h, int timeout_ms);
/* Waits up to timeout_ms for a line on the hog's stdout that starts with prefix. */
bool hog_wait_line(Hog *h, const char *prefix, int timeout_ms);
/* The same, returning the line (or NULL). */
char *hog_read_line(Hog *h, const char *prefix, int timeout_ms);
/* Everything the hog wrote on stderr so far. */
char *hog_stderr(Hog *h);
/* Kills (SIGKILL) and reaps; returns the wait status. */
int hog_kill(Hog *h);
bool hog_alive(Hog *h);
