/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A private system-bus-like dbus-daemon for tests: the defaults of Debian's system.conf (deny own,
 * deny method calls unless a policy punches a hole) plus the project's own policy file from the
 * source tree, dbus/org.memctl.Manager1.conf, so the shipped policy is what is tested.
 */
#include <gio/gio.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct {
    GPid pid;
    char *dir;
    char *address;
    GDBusConnection *conn; /* the test's own connection (as root) */
} BusTest;

/* Starts the bus; the CLI runs with DBUS_SYSTEM_BUS_ADDRESS pointing at it (bustest_cli). */
void bustest_start(BusTest *b);
/* The same, with more bus policy files included (e.g. polkitd's). */
void bustest_start_with(BusTest *b, const char *const *includes);
void bustest_stop(BusTest *b);

/* Waits until name has an owner on the bus (asserts within timeout_ms). */
void bustest_wait_name(BusTest *b, const char *name, int timeout_ms);

/*
 * Runs the memctl CLI with args (NULL-terminated) against the bus; returns its exit code, with
 * stdout and stderr in *ret_out / *ret_err (if given).
 */
int bustest_cli(BusTest *b, const char *const *args, char **ret_out, char **ret_err);

/* Calls a Manager1 method as the test (root); returns the reply or NULL with *error set. */
GVariant *bustest_call(BusTest *b, const char *method, GVariant *params, GError **error);

#include "tests/lib/daemontest.h"

/* A fresh managed root, a private bus and memctld serving the API on it. */
typedef struct {
    BusTest bus;
    DaemonTest d;
    char *root;
} ApiTest;

void apitest_start(ApiTest *t, const char *prefix, const char *const *extra_args);
/* The managed root apitest_start(prefix) uses (to free). */
char *apitest_root_path(const char *prefix);
/* The same on a root the test prepared (cgroups in it are adopted); apitest_stop() removes it. */
void apitest_start_root(ApiTest *t, const char *root, const char *const *extra_args);
/* apitest_start_root() in its two steps, for a benchmark that times memctld's alone: the private bus
 * (and the root noted), then memctld, until READY=1 and its name on the bus. */
void apitest_bus_up(ApiTest *t, const char *root);
void apitest_daemon_up(ApiTest *t, const char *const *extra_args);
void apitest_stop(ApiTest *t);
/* Calls a method of the test's memctld and fails the test if it returns an error. */
void apitest_call_ok(ApiTest *t, const char *method, GVariant *params);
/* The same for a call that must fail with the D-Bus error `name`, its message containing `needle`
 * (NULL: any message). */
void apitest_call_fails(ApiTest *t, const char *method, GVariant *params, const char *name,
                        const char *needle);
/* An a{sv} with one entry (a floating reference, for a call's parameters). */
GVariant *bustest_dict1(const char *key, GVariant *value);
/* GetStatus's dictionary (to unref), and one of its "t" values (the test fails without it). */
GVariant *apitest_status(ApiTest *t);
uint64_t apitest_status_u64(ApiTest *t, const char *key);
/* One Group1 property of the group `name` (to unref; the test fails if it cannot be read). */
GVariant *apitest_group_prop(ApiTest *t, const char *name, const char *prop);

/* Runs the CLI against the test's memctld; fails the test unless it exits with `want`. Returns its
 * stdout (apitest_cli) or its stderr (apitest_cli_err), to free. */
char *apitest_cli(ApiTest *t, int want, const char *const *args);
char *apitest_cli_err(ApiTest *t, int want, const char *const *args);

/* Iterates the default main context until *flag is set or timeout_ms passes; returns *flag. */
bool bustest_wait_flag(const bool *flag, int timeout_ms);
