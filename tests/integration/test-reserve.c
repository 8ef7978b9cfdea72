/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The reserve and critical clients (WHY.md §3) on the real kernel with a private bus: a client whose
 * group sits at memory.max writes its whole lease with no kill, no ENOMEM and no stall; a client
 * that dies mid-lease gives the lease back wiped; critical clients are never victims; the host runs
 * out while a critical client keeps writing; bad input gets named errors. The boost of critical
 * groups is in test-boost.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <grp.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <json-c/json.h>

#include "include/memctl/client.h"
#include "include/memctl/memctl.h"
#include "tests/lib/bustest.h"
#include "tests/lib/cgtest.h"
#include "tests/lib/reservetest.h"

#define MiB ((uint64_t)1024 * 1024)

static uint64_t line_value(const char *line, int field)
{
    g_auto(GStrv) w = g_strsplit(line, " ", -1);
    g_assert_cmpint((int)g_strv_length(w), >, field);
    return g_ascii_strtoull(w[field], NULL, 10);
}

/* A client at its group's memory.max writes its whole lease: no kill, no ENOMEM, no stall > 100 ms. */
static void test_lease_at_max(void)
{
    ApiTest t;
    const char *args[] = {"--reserve=96M", NULL};
    apitest_start(&t, "memctl-reserve-max", args);
    apitest_call_ok(&t, "CreateGroup", g_variant_new_parsed("('db', {'max': <'64M'>})"));
    apitest_call_ok(&t, "RegisterCritical", g_variant_new("(sut)", "db", 0u, (guint64)(32 * MiB)));
    g_autofree char *grp = g_build_filename(t.root, "db", NULL);
    /* memory.min follows the registration */
    g_assert_cmpuint(cgtest_read_u64(grp, "memory.min"), ==, 32 * MiB);
    g_autofree char *leaf = g_build_filename(t.root, "memctld", NULL);
    uint64_t leaf_before = cgtest_read_u64(leaf, "memory.current");

    ReserveClient c;
    const char *extra[] = {"--fill-to-max", NULL};
    reserve_client_start(&c, &t, grp, 32 * MiB, extra);
    g_autofree char *ready = reserve_client_line(&c, "ready", 10000);
    g_assert_nonnull(ready);
    reserve_client_go(&c);
    g_autofree char *filled = reserve_client_line(&c, "filled", 60000);
    g_assert_nonnull(filled);
    uint64_t max = cgtest_read_u64(grp, "memory.max");
    g_assert_cmpuint(line_value(filled, 1) + MiB, >=, max);
    g_autofree char *wrote = reserve_client_line(&c, "wrote", 30000);
    if (!wrote) {
        g_autofree char *e = reserve_client_stderr(&c);
        g_error("the client did not write its lease: %s", e);
    }
    uint64_t worst = line_value(wrote, 3);
    g_autofree char *done = reserve_client_line(&c, "done", 10000);
    g_assert_nonnull(done);
    /* the lease was not charged to the client's group: it is still at (not above) its max */
    uint64_t cur = cgtest_read_u64(grp, "memory.current");
    g_assert_cmpuint(cur, <=, max);
    g_assert_cmpuint(cgtest_read_key(grp, "memory.events.local", "oom_kill"), ==, 0);
    g_assert_cmpuint(cgtest_read_key(grp, "memory.events.local", "oom"), ==, 0);
    g_assert_cmpint(reserve_client_wait(&c, 10000), ==, 0); /* exited 0: no error, no kill */
    g_assert_cmpuint(worst, <, 100000);
    /* and memctld's own leaf holds the reserve (it was charged there at start) */
    g_assert_cmpuint(leaf_before, >=, 96 * MiB);
    g_test_message("group at %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                   " bytes; 32M lease written, slowest MiB %" G_GUINT64_FORMAT " us",
                   line_value(filled, 1), max, worst);
    apitest_stop(&t);
}

/* A client dies holding its lease: the lease returns, wiped; the accounting is exact. */
static void test_lease_dies(void)
{
    ApiTest t;
    const char *args[] = {"--reserve=64M", NULL};
    apitest_start(&t, "memctl-reserve-dies", args);
    apitest_call_ok(&t, "CreateGroup", g_variant_new_parsed("('shim', {'min': <'4M'>})"));
    apitest_call_ok(&t, "RegisterCritical", g_variant_new("(sut)", "shim", 0u, (guint64)(16 * MiB)));
    g_autofree char *grp = g_build_filename(t.root, "shim", NULL);
    g_assert_cmpuint(cgtest_read_u64(grp, "memory.min"), ==, 16 * MiB);
    g_assert_cmpuint(apitest_status_u64(&t, "reserve_registered"), ==, 16 * MiB);
    g_assert_cmpuint(apitest_status_u64(&t, "reserve_free"), ==, 48 * MiB);

    for (int round = 0; round < 3; round++) {
        ReserveClient a;
        const char *hold[] = {"--hold", NULL};
        reserve_client_start(&a, &t, grp, 8 * MiB, hold);
        g_free(reserve_client_line(&a, "ready", 10000));
        reserve_client_go(&a);
        g_autofree char *lease = reserve_client_line(&a, "lease", 10000);
        g_assert_nonnull(lease);
        g_assert_cmpuint(line_value(lease, 2), ==, 16 * MiB); /* the whole registration */
        g_autofree char *done = reserve_client_line(&a, "done", 30000);
        g_assert_nonnull(done);
        g_assert_cmpuint(apitest_status_u64(&t, "reserve_leased"), ==, 16 * MiB);
        g_assert_true(WIFSIGNALED(reserve_client_kill(&a))); /* dies mid-lease, its data in it */

        /* the lease comes back once the bus reports the connection gone */
        gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
        while (apitest_status_u64(&t, "reserve_leased") != 0 && g_get_monotonic_time() < deadline)
            g_usleep(10 * 1000);
        g_assert_cmpuint(apitest_status_u64(&t, "reserve_leased"), ==, 0);

        ReserveClient b;
        const char *check[] = {"--check-zero", NULL};
        reserve_client_start(&b, &t, grp, 16 * MiB, check);
        g_free(reserve_client_line(&b, "ready", 10000));
        reserve_client_go(&b);
        g_autofree char *zero = reserve_client_line(&b, "zero", 30000);
        if (!zero) {
            g_autofree char *e = reserve_client_stderr(&b);
            g_error("the second client got no lease: %s", e);
        }
        g_assert_cmpstr(zero, ==, "zero ok");
        g_assert_cmpint(reserve_client_wait(&b, 30000), ==, 0);
    }
    /* exact: everything registered is back, the pool and the lease are resident, nothing leaked */
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (apitest_status_u64(&t, "reserve_leased") != 0 && g_get_monotonic_time() < deadline)
        g_usleep(10 * 1000);
    g_assert_cmpuint(apitest_status_u64(&t, "reserve_leased"), ==, 0);
    g_assert_cmpuint(apitest_status_u64(&t, "reserve_total"), ==, 64 * MiB);
    g_assert_cmpuint(apitest_status_u64(&t, "reserve_resident"), ==, 64 * MiB);
    apitest_call_ok(&t, "UnregisterCritical", g_variant_new("(su)", "shim", 0u));
    g_assert_cmpuint(apitest_status_u64(&t, "reserve_free"), ==, 64 * MiB);
    g_assert_cmpuint(apitest_status_u64(&t, "reserve_resident"), ==, 64 * MiB);
    g_assert_cmpuint(cgtest_read_u64(grp, "memory.min"), ==, 4 * MiB); /* its own min, back */
    apitest_stop(&t);
}

/* Starts a --commands client in grp, takes its lease and waits until it wrote `byte` everywhere. */
static void holder_start(ReserveClient *c, ApiTest *t, const char *grp, const char *byte)
{
    const char *args[] = {"--commands", "--check-zero", "--fill-byte", byte, NULL};
    reserve_client_start(c, t, grp, 16 * MiB, args);
    g_free(reserve_client_line(c, "ready", 10000));
    reserve_client_go(c);
    g_autofree char *zero = reserve_client_line(c, "zero", 30000);
    if (!zero) {
        g_autofree char *e = reserve_client_stderr(c);
        g_error("no lease: %s", e);
    }
    g_assert_cmpstr(zero, ==, "zero ok"); /* nothing of an earlier holder */
    g_free(reserve_client_line(c, "done", 30000));
}

/*
 * No byte passes between holders of a registration's lease, and none outlives the registration: a
 * holder that released its lease (or whose registration went) and kept its mapping sees none of
 * what the next holder writes, and what it writes reaches no one. The pool stays resident.
 */
static void test_lease_isolated(void)
{
    ApiTest t;
    const char *args[] = {"--reserve=64M", NULL};
    apitest_start(&t, "memctl-reserve-isolated", args);
    apitest_call_ok(&t, "CreateGroup", g_variant_new_parsed("('shim', {'min': <'4M'>})"));
    apitest_call_ok(&t, "RegisterCritical", g_variant_new("(sut)", "shim", 0u, (guint64)(16 * MiB)));
    g_autofree char *grp = g_build_filename(t.root, "shim", NULL);

    ReserveClient a, b;
    holder_start(&a, &t, grp, "171"); /* 0xab */
    g_free(reserve_client_ask(&a, "release", "released", 10000));
    g_assert_cmpuint(apitest_status_u64(&t, "reserve_leased"), ==, 0);
    /* the old holder's mapping lost its pages: it reads zeros, not even its own data */
    g_autofree char *a_old = reserve_client_ask(&a, "check", "check", 10000);
    g_assert_cmpstr(a_old, ==, "check ok");

    holder_start(&b, &t, grp, "205"); /* 0xcd, on a lease that starts zeroed */
    g_autofree char *a_sees = reserve_client_ask(&a, "check", "check", 10000);
    g_assert_cmpstr(a_sees, ==, "check ok"); /* none of b's bytes */
    g_free(reserve_client_ask(&a, "scribble 238", "scribbled", 10000));
    g_autofree char *b_sees = reserve_client_ask(&b, "verify 205", "verify", 10000);
    g_assert_cmpstr(b_sees, ==, "verify ok"); /* none of a's */
    /* a's scribbles are a's own memory, not the reserve's: the pool and b's lease are exact */
    g_assert_cmpuint(apitest_status_u64(&t, "reserve_total"), ==, 64 * MiB);
    g_assert_cmpuint(apitest_status_u64(&t, "reserve_resident"), ==, 64 * MiB);

    /* the registration goes while b holds the lease: b's mapping keeps none of the reserve */
    apitest_call_ok(&t, "UnregisterCritical", g_variant_new("(su)", "shim", 0u));
    g_autofree char *b_after = reserve_client_ask(&b, "check", "check", 10000);
    g_assert_cmpstr(b_after, ==, "check ok");
    g_assert_cmpuint(apitest_status_u64(&t, "reserve_free"), ==, 64 * MiB);
    g_assert_cmpuint(apitest_status_u64(&t, "reserve_resident"), ==, 64 * MiB);

    reserve_client_send(&a, "quit");
    reserve_client_send(&b, "quit");
    g_assert_cmpint(reserve_client_wait(&a, 10000), ==, 0);
    g_assert_cmpint(reserve_client_wait(&b, 10000), ==, 0);
    apitest_stop(&t);
}

static bool killed_by_sigkill(int status)
{
    return status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

/* A registered process is never the victim, even as the group's biggest with oom_score_adj 1000. */
static void test_never_victim(void)
{
    ApiTest t;
    apitest_start(&t, "memctl-reserve-victim", NULL);
    apitest_call_ok(&t, "CreateGroup", g_variant_new_parsed("('t', {'limit': <'128M'>})"));
    g_autofree char *grp = g_build_filename(t.root, "t", NULL);
    Hog crit;
    const char *cargs[] = {"--cgroup", grp, "--total", "48M", "--hold", "--oom-score-adj", "1000", NULL};
    hog_start(&crit, cargs);
    g_assert_true(hog_wait_line(&crit, "grown", 30000));
    apitest_call_ok(&t, "RegisterCritical", g_variant_new("(sut)", "", (guint32)crit.pid, (guint64)0));
    for (int round = 0; round < 3; round++) {
        Hog hog;
        const char *hargs[] = {"--cgroup", grp, "--step", "1M", NULL};
        hog_start(&hog, hargs);
        g_assert_true(killed_by_sigkill(hog_wait(&hog, 120000)));
        g_assert_true(hog_alive(&crit));
    }
    g_assert_cmpuint(cgtest_read_key(grp, "memory.events.local", "oom_kill"), ==, 0);
    /* unregistered, the same process is the policy's first choice again */
    apitest_call_ok(&t, "UnregisterCritical", g_variant_new("(su)", "", (guint32)crit.pid));
    Hog hog;
    const char *hargs[] = {"--cgroup", grp, "--step", "1M", NULL};
    hog_start(&hog, hargs);
    g_assert_true(killed_by_sigkill(hog_wait(&crit, 120000)));
    g_assert_true(killed_by_sigkill(hog_kill(&hog)));
    /* a registration of a process ends when it exits */
    g_autoptr(GError) err = NULL;
    g_autoptr(GVariant) l = bustest_call(&t.bus, "ListCritical", NULL, &err);
    g_assert_no_error(err);
    g_autoptr(GVariant) arr = g_variant_get_child_value(l, 0);
    g_assert_cmpuint(g_variant_n_children(arr), ==, 0);
    apitest_stop(&t);
}

/*
 * A registered critical group over its high without progress has no eligible victim at every
 * decision (every 100 ms window while it stays there): that is said once per episode over high, not
 * at every decision, and said again in the next episode.
 */
static void test_no_victim_once(void)
{
    ApiTest t;
    apitest_start(&t, "memctl-reserve-novictim", NULL);
    apitest_call_ok(&t, "CreateGroup", g_variant_new_parsed("('crit', {'limit': <'64M'>})"));
    apitest_call_ok(&t, "RegisterCritical", g_variant_new("(sut)", "crit", 0u, (guint64)0));
    g_autofree char *grp = g_build_filename(t.root, "crit", NULL);
    const char *needle = "\"type\":\"error\"";
    for (guint episode = 1; episode <= 2; episode++) {
        /* over high (60.8M), under max (64M): held, nothing to reclaim without swap */
        Hog hog;
        hog_start(&hog, (const char *[]){"--cgroup", grp, "--total", "62M", "--hold", NULL});
        g_assert_true(hog_wait_line(&hog, "grown", 30000));
        g_assert_cmpuint(daemontest_wait_count(&t.d, needle, episode, 10000), ==, episode);
        g_usleep(3 * G_USEC_PER_SEC); /* 30 more decisions */
        g_assert_cmpuint(daemontest_count_records(&t.d, needle), ==, episode);
        g_autofree char *rec = daemontest_wait_record(&t.d, 0, needle, "no eligible victim");
        g_assert_nonnull(rec);
        g_assert_true(hog_alive(&hog));
        g_assert_true(killed_by_sigkill(hog_kill(&hog)));
        g_usleep(500 * 1000); /* back under high: the episode ends */
    }
    g_assert_cmpuint(cgtest_read_key(grp, "memory.events.local", "oom_kill"), ==, 0);
    apitest_stop(&t);
}

/* KillGroup on a group with nothing it may kill (a registered critical group) answers every time,
 * at once, with the reason: it used to answer only the first call and hang the second, after which
 * every later call said a kill was in progress. */
static void test_kill_critical(void)
{
    ApiTest t;
    apitest_start(&t, "memctl-reserve-killcrit", NULL);
    apitest_call_ok(&t, "CreateGroup", g_variant_new_parsed("('crit', {'limit': <'64M'>})"));
    apitest_call_ok(&t, "RegisterCritical", g_variant_new("(sut)", "crit", 0u, (guint64)0));
    g_autofree char *grp = g_build_filename(t.root, "crit", NULL);
    Hog hog;
    hog_start(&hog, (const char *[]){"--cgroup", grp, "--total", "8M", "--hold", NULL});
    g_assert_true(hog_wait_line(&hog, "grown", 30000));
    for (guint round = 0; round < 4; round++) {
        g_autoptr(GError) err = NULL;
        gint64 t0 = g_get_monotonic_time();
        g_autoptr(GVariant) r = bustest_call(
                &t.bus, "KillGroup", g_variant_new("(sst)", "crit", "round", (guint64)(round % 2)), &err);
        g_assert_null(r);
        g_assert_nonnull(strstr(err->message, "no eligible victim"));
        g_assert_cmpint(g_get_monotonic_time() - t0, <, 5 * G_USEC_PER_SEC);
    }
    g_assert_true(hog_alive(&hog));
    g_assert_true(killed_by_sigkill(hog_kill(&hog)));
    apitest_stop(&t);
}

/* A kill of a whole group (oom_group) spares those the kernel's memory.oom.group spares
 * (oom_score_adj -1000) and the registered critical processes in it: it kills the others one by one
 * instead of writing cgroup.kill over them all. */
static void test_group_kill_spares(void)
{
    ApiTest t;
    apitest_start(&t, "memctl-reserve-spares", NULL);
    apitest_call_ok(&t, "CreateGroup",
                    g_variant_new_parsed("('og', {'limit': <'96M'>, 'oom_group': <true>})"));
    g_autofree char *grp = g_build_filename(t.root, "og", NULL);
    Hog keep, crit, other;
    hog_start(&keep,
              (const char *[]){"--cgroup", grp, "--total", "4M", "--hold", "--oom-score-adj", "-1000", NULL});
    hog_start(&crit, (const char *[]){"--cgroup", grp, "--total", "4M", "--hold", NULL});
    hog_start(&other, (const char *[]){"--cgroup", grp, "--total", "4M", "--hold", NULL});
    g_assert_true(hog_wait_line(&keep, "grown", 30000));
    g_assert_true(hog_wait_line(&crit, "grown", 30000));
    g_assert_true(hog_wait_line(&other, "grown", 30000));
    apitest_call_ok(&t, "RegisterCritical", g_variant_new("(sut)", "", (guint32)crit.pid, (guint64)0));
    Hog hog;
    hog_start(&hog, (const char *[]){"--cgroup", grp, "--step", "1M", NULL});
    g_assert_true(killed_by_sigkill(hog_wait(&hog, 120000)));
    g_assert_true(killed_by_sigkill(hog_wait(&other, 10000))); /* the group went, but for ... */
    g_assert_true(hog_alive(&keep));                           /* ... the one the kernel spares too */
    g_assert_true(hog_alive(&crit));                           /* ... and the critical client */
    g_autofree char *rec = daemontest_wait_record(&t.d, 5000, "\"group_kill\":true", "\"processes\":2");
    g_assert_nonnull(rec);
    g_assert_cmpuint(cgtest_read_key(grp, "memory.events.local", "oom_kill"), ==, 0);
    apitest_call_ok(&t, "UnregisterCritical", g_variant_new("(su)", "", (guint32)crit.pid));
    (void)hog_kill(&keep);
    (void)hog_kill(&crit);
    apitest_stop(&t);
}

/* The host runs out of memory (a hog outside every group) while a critical client keeps writing its
 * lease: the client survives and writes everything, the hog is killed. */
#define LOOP_MS 45000 /* the client's loop */
static void test_host_exhaustion(void)
{
    ApiTest t;
    const char *args[] = {"--reserve=96M", NULL};
    apitest_start(&t, "memctl-reserve-host", args);
    apitest_call_ok(&t, "CreateGroup", g_variant_new_parsed("('crit', @a{sv} {})"));
    apitest_call_ok(&t, "RegisterCritical", g_variant_new("(sut)", "crit", 0u, (guint64)(64 * MiB)));
    g_autofree char *grp = g_build_filename(t.root, "crit", NULL);
    g_autofree char *outside_root = cgtest_root_new("memctl-reserve-hog");
    g_autofree char *outside = cgtest_mkdir(outside_root, "hog");
    ReserveClient c;
    /* The client's loop outlasts the exhaustion, asserted below against the loop itself: the hog's
     * growth takes 8-32 s under TCG, depending on the machine. */
    const char *extra[] = {"--loop-ms", G_STRINGIFY(LOOP_MS), NULL};
    reserve_client_start(&c, &t, grp, 64 * MiB, extra);
    g_free(reserve_client_line(&c, "ready", 10000));
    gint64 t_go = g_get_monotonic_time();
    reserve_client_go(&c);
    g_autofree char *wrote = reserve_client_line(&c, "wrote", 30000);
    g_assert_nonnull(wrote);

    Hog hog;
    const char *hargs[] = {"--cgroup", outside, "--step", "8M", NULL};
    gint64 t0 = g_get_monotonic_time();
    hog_start(&hog, hargs);
    int status = hog_wait(&hog, 300000);
    gint64 now = g_get_monotonic_time(), dt = now - t0, since_go = now - t_go;
    g_assert_true(killed_by_sigkill(status));
    /* the whole exhaustion fell inside the client's loop, which started at go */
    g_assert_cmpint(since_go, <, (gint64)LOOP_MS * 1000);
    g_assert_cmpint(kill(c.pid, 0), ==, 0); /* the critical client is alive */
    g_autofree char *looped = reserve_client_line(&c, "looped", 90000);
    if (!looped) {
        g_autofree char *e = reserve_client_stderr(&c);
        g_error("the critical client did not finish: %s", e);
    }
    g_assert_cmpint(reserve_client_wait(&c, 10000), ==, 0);
    g_assert_cmpuint(cgtest_read_key(grp, "memory.events.local", "oom_kill"), ==, 0);
    g_assert_cmpuint(cgtest_read_key(outside, "memory.events.local", "oom_kill"), >=, 1);
    g_test_message(
            "hog killed by the kernel after %.1f s; the critical client rewrote its 64M lease throughout "
            "(%s)",
            dt / 1e6, looped);
    cgtest_remove_tree(outside_root);
    apitest_stop(&t);
}

static void test_bad_input(void)
{
    ApiTest t;
    const char *args[] = {"--reserve=32M", NULL};
    apitest_start(&t, "memctl-reserve-bad", args);
    apitest_call_ok(&t, "CreateGroup", g_variant_new_parsed("('g', @a{sv} {})"));
    const char *inv = MEMCTL_DBUS_ERROR_INVALID_ARGUMENT;
    apitest_call_fails(&t, "RegisterCritical", g_variant_new("(sut)", "g", 1u, (guint64)MiB), inv, "either");
    apitest_call_fails(&t, "RegisterCritical", g_variant_new("(sut)", "", 0u, (guint64)MiB), inv, "either");
    apitest_call_fails(&t, "RegisterCritical", g_variant_new("(sut)", "nope", 0u, (guint64)MiB),
                       MEMCTL_DBUS_ERROR_NO_SUCH_GROUP, "nope");
    apitest_call_fails(&t, "RegisterCritical", g_variant_new("(sut)", "", 0x7ffffff0u, (guint64)MiB), inv,
                       "no process");
    apitest_call_fails(&t, "RegisterCritical", g_variant_new("(sut)", "", 0xfffffff0u, (guint64)MiB), inv,
                       "pid");
    apitest_call_fails(&t, "RegisterCritical", g_variant_new("(sut)", "", (guint32)t.d.pid, (guint64)MiB),
                       inv, "memctld itself");
    apitest_call_fails(&t, "RegisterCritical", g_variant_new("(sut)", "g", 0u, (guint64)33 * MiB),
                       MEMCTL_DBUS_ERROR_RESERVE_EXHAUSTED, "reserve_bytes");
    apitest_call_fails(&t, "RegisterCritical", g_variant_new("(sut)", "g", 0u, G_MAXUINT64),
                       MEMCTL_DBUS_ERROR_RESERVE_EXHAUSTED, "reserve_bytes");
    g_assert_cmpuint(apitest_status_u64(&t, "reserve_registered"), ==, 0);

    /* not registered yet: no lease */
    apitest_call_fails(&t, "AcquireReserve", g_variant_new("(t)", (guint64)MiB),
                       MEMCTL_DBUS_ERROR_ACCESS_DENIED, "not a registered");
    /* the sum of registrations never exceeds the reserve */
    apitest_call_ok(&t, "RegisterCritical", g_variant_new("(sut)", "g", 0u, (guint64)24 * MiB));
    apitest_call_fails(&t, "RegisterCritical", g_variant_new("(sut)", "g", 0u, (guint64)MiB),
                       MEMCTL_DBUS_ERROR_BUSY, "registered already");
    apitest_call_fails(&t, "RegisterCritical",
                       g_variant_new("(sut)", "", (guint32)getpid(), (guint64)9 * MiB),
                       MEMCTL_DBUS_ERROR_RESERVE_EXHAUSTED, "8.0M");
    apitest_call_fails(&t, "RemoveGroup", g_variant_new("(st)", "g", (guint64)0), MEMCTL_DBUS_ERROR_BUSY,
                       "critical");

    /* the test itself as a registered process: sizes, a second lease, double release */
    apitest_call_ok(&t, "RegisterCritical", g_variant_new("(sut)", "", (guint32)getpid(), (guint64)8 * MiB));
    apitest_call_fails(&t, "AcquireReserve", g_variant_new("(t)", (guint64)0), inv, "bytes");
    apitest_call_fails(&t, "AcquireReserve", g_variant_new("(t)", G_MAXUINT64), inv, "more than");
    apitest_call_fails(&t, "AcquireReserve", g_variant_new("(t)", (guint64)9 * MiB), inv, "more than");
    g_autoptr(GError) err = NULL;
    g_autoptr(GUnixFDList) fds = NULL;
    g_autoptr(GVariant) r = g_dbus_connection_call_with_unix_fd_list_sync(
            t.bus.conn, MEMCTL_BUS_NAME, MEMCTL_MANAGER_PATH, MEMCTL_MANAGER_INTERFACE, "AcquireReserve",
            g_variant_new("(t)", (guint64)MiB), G_VARIANT_TYPE("(htu)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
            &fds, NULL, &err);
    g_assert_no_error(err);
    gint32 idx;
    guint64 size;
    guint32 lease;
    g_variant_get(r, "(htu)", &idx, &size, &lease);
    g_assert_cmpuint(size, ==, 8 * MiB);
    int fd = g_unix_fd_list_get(fds, idx, &err);
    g_assert_cmpint(fd, >=, 0);
    /* sealed: it can neither shrink nor grow */
    g_assert_cmpint(ftruncate(fd, 0), <, 0);
    g_assert_cmpint(ftruncate(fd, (off_t)(16 * MiB)), <, 0);
    close(fd);
    apitest_call_fails(&t, "AcquireReserve", g_variant_new("(t)", (guint64)MiB), MEMCTL_DBUS_ERROR_BUSY,
                       "held already");
    apitest_call_fails(&t, "ReleaseReserve", g_variant_new("(u)", lease + 1000), inv, "not held");
    apitest_call_ok(&t, "ReleaseReserve", g_variant_new("(u)", lease));
    apitest_call_fails(&t, "ReleaseReserve", g_variant_new("(u)", lease), inv, "not held");
    apitest_call_fails(&t, "UnregisterCritical", g_variant_new("(su)", "other", 0u), inv, "not registered");

    /* a caller that is neither root nor admin may not register (polkit is never asked) */
    pid_t child = fork();
    g_assert_cmpint(child, >=, 0);
    if (child == 0) {
        if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
            _exit(99);
        MemctlClient *c = NULL; /* sd-bus: GDBus does not work in a forked child of a threaded process */
        if (memctl_client_open(t.bus.address, &c) < 0)
            _exit(98);
        int code = memctl_client_register_critical(c, "g", 0, MiB) == -EACCES ? 0 : 1;
        memctl_client_free(c);
        _exit(code);
    }
    int status;
    g_assert_cmpint(waitpid(child, &status, 0), ==, child);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);

    /* memctl reserve shows the registrations */
    const char *list[] = {"reserve", "--json", NULL};
    g_autofree char *out = NULL;
    g_assert_cmpint(bustest_cli(&t.bus, list, &out, NULL), ==, 0);
    g_assert_nonnull(strstr(out, "\"group\":\"g\",\"pid\":null,\"reserve\":25165824"));
    g_assert_nonnull(strstr(out, "\"total\":33554432"));
    apitest_call_ok(&t, "UnregisterCritical", g_variant_new("(su)", "", (guint32)getpid()));
    apitest_call_ok(&t, "UnregisterCritical", g_variant_new("(su)", "g", 0u));
    g_assert_cmpuint(apitest_status_u64(&t, "reserve_registered"), ==, 0);
    g_assert_cmpuint(apitest_status_u64(&t, "reserve_resident"), ==, 32 * MiB);
    apitest_stop(&t);

    /* memctld refuses a reserve it cannot or should not take */
    g_autofree char *root = g_strdup_printf("%s/memctl-reserve-opt.%d", cgtest_mount(), (int)getpid());
    const char *bad[][2] = {{"--reserve=lots", "not a size"}, {"--reserve=100T", "half of the host"}};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        const char *a[] = {bad[i][0], NULL};
        g_autofree char *e = NULL;
        g_assert_cmpint(daemontest_run_fail(root, a, &e), ==, 2);
        g_assert_nonnull(strstr(e, bad[i][1]));
    }
    cgtest_remove_tree(root);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    cgtest_require_cgroup2();
    g_test_add_func("/reserve/lease-at-max", test_lease_at_max);
    g_test_add_func("/reserve/lease-dies", test_lease_dies);
    g_test_add_func("/reserve/lease-isolated", test_lease_isolated);
    g_test_add_func("/reserve/bad-input", test_bad_input);
    g_test_add_func("/reserve/never-victim", test_never_victim);
    g_test_add_func("/reserve/no-victim-once", test_no_victim_once);
    g_test_add_func("/reserve/kill-critical", test_kill_critical);
    g_test_add_func("/reserve/group-kill-spares", test_group_kill_spares);
    g_test_add_func("/reserve/host-exhaustion", test_host_exhaustion);
    return g_test_run();
}
