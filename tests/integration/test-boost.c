/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The reserve lent to critical groups (WHY.md §3) on the real kernel with a private bus: a critical
 * group at its limit under host pressure gets its limits raised from the reserve and put back when
 * the host is calm, its own limits kept through a reload and a restart. Split from test-reserve.c
 * (the same tests, the same names).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <json-c/json.h>

#include "include/memctl/memctl.h"
#include "tests/lib/bustest.h"
#include "tests/lib/cgtest.h"
#include "tests/lib/reservetest.h"

#define MiB ((uint64_t)1024 * 1024)

/* Waits up to timeout_ms for a cgroup file's value to be `want`. */
static uint64_t wait_u64(const char *dir, const char *file, uint64_t want, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    uint64_t v;
    while ((v = cgtest_read_u64(dir, file)) != want && g_get_monotonic_time() < deadline)
        g_usleep(10 * 1000);
    return v;
}

/* The batch job: one hog, and the top-ups that bring MemAvailable down to the premise. */
typedef struct {
    Hog h[3];
    guint n;
} Batch;

static void batch_kill(Batch *b)
{
    for (guint i = 0; i < b->n; i++)
        (void)hog_kill(&b->h[i]);
}

/*
 * The host short of memory (a batch hog in `batch` holds all but ~30 MiB of what was available) when
 * the critical group `db` (limit 64M, high 60.8M, 32 MiB registered) reaches its own limit: memctld
 * lends the registration from the reserve (freed first) and raises high and max by as much, so the
 * group grows to 80M with no kill. a: db's 58M resident set; hog: the batch hog; b: db's growth.
 */
static void boost_db(ApiTest *t, const char *db, const char *batch, Hog *a, Batch *hog, Hog *b)
{
    uint64_t max = cgtest_read_u64(db, "memory.max"), high = cgtest_read_u64(db, "memory.high");
    g_assert_cmpuint(max, ==, 64 * MiB);
    g_assert_cmpuint(high, <, max);
    hog_start(a, (const char *[]){"--cgroup", db, "--total", "58M", "--hold", NULL});
    g_assert_true(hog_wait_line(a, "grown", 30000));
    /* the host short: MemAvailable ~30M, under the guard's 5% (48M of 958M) and above exhaustion */
    uint64_t avail = cgtest_read_key("/proc", "meminfo", "MemAvailable:") * 1024;
    g_assert_cmpuint(avail, >, 200 * MiB);
    g_autofree char *total = g_strdup_printf("%" G_GUINT64_FORMAT "M", (avail - 30 * MiB) / MiB);
    hog_start(&hog->h[0],
              (const char *[]){"--cgroup", batch, "--total", total, "--step", "8M", "--hold", NULL});
    g_assert_true(hog_wait_line(&hog->h[0], "grown", 60000));
    hog->n = 1;
    /* MemAvailable is an estimate: the page cache reclaimed meanwhile can leave more than 30M (CI once
     * saw 54M, above the 48M at which the host is short): top the batch job up to the premise */
    while ((avail = cgtest_read_key("/proc", "meminfo", "MemAvailable:") * 1024) > 36 * MiB &&
           hog->n < G_N_ELEMENTS(hog->h)) {
        g_autofree char *more = g_strdup_printf("%" G_GUINT64_FORMAT "M", (avail - 30 * MiB) / MiB);
        g_test_message("MemAvailable %" G_GUINT64_FORMAT " MiB: %s more in the batch job", avail / MiB, more);
        Hog *h = &hog->h[hog->n++];
        hog_start(h, (const char *[]){"--cgroup", batch, "--total", more, "--step", "4M", "--hold", NULL});
        g_assert_true(hog_wait_line(h, "grown", 60000));
    }
    g_test_message("MemAvailable %" G_GUINT64_FORMAT " MiB with the batch job at %s and %u top-up(s)",
                   avail / MiB, total, hog->n - 1);
    g_assert_cmpuint(avail, <, 40 * MiB); /* the premise: a few MiB of db's growth make the host short */
    /* the group reaches its limit and goes on: 22M more, to 80M */
    hog_start(b, (const char *[]){"--cgroup", db, "--total", "22M", "--step", "1M", "--interval-ms", "10",
                                  "--hold", NULL});
    bool grown = hog_wait_line(b, "grown", 120000);
    g_autofree char *log = NULL;
    g_file_get_contents(t->d.log, &log, NULL, NULL);
    g_test_message("memctld: %s", log);
    g_assert_true(grown);
    g_assert_true(hog_alive(a));
    g_assert_cmpuint(cgtest_read_key(db, "memory.events.local", "oom_kill"), ==, 0);
    g_assert_nonnull(strstr(log, "db: at its limit under host pressure: boosted 32.0M above it"));
    g_assert_cmpuint(cgtest_read_u64(db, "memory.current"), >, max); /* above its own limit, on the boost */
    g_assert_cmpuint(apitest_status_u64(t, "reserve_lent"), ==, 32 * MiB);
    g_assert_cmpuint(apitest_status_u64(t, "reserve_resident"), ==,
                     32 * MiB); /* the lent half is not resident */
    g_assert_cmpuint(cgtest_read_u64(db, "memory.max"), ==, max + 32 * MiB);
    g_assert_cmpuint(cgtest_read_u64(db, "memory.high"), ==, high + 32 * MiB);
}

/* db back under its own limits: they and the reserve come back, and nothing was killed in it. */
static void boost_taken_back(ApiTest *t, const char *db, uint64_t max, uint64_t high, Hog *a)
{
    g_assert_cmpuint(wait_u64(db, "memory.max", max, 10000), ==, max);
    g_assert_cmpuint(cgtest_read_u64(db, "memory.high"), ==, high);
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (apitest_status_u64(t, "reserve_lent") != 0 && g_get_monotonic_time() < deadline)
        g_usleep(10 * 1000);
    g_assert_cmpuint(apitest_status_u64(t, "reserve_lent"), ==, 0);
    g_assert_cmpuint(apitest_status_u64(t, "reserve_resident"), ==, 64 * MiB);
    g_assert_true(hog_alive(a));
    g_assert_cmpuint(cgtest_read_key(db, "memory.events.local", "oom_kill"), ==, 0);
    g_autofree char *db_kill = daemontest_wait_record(&t->d, 0, "\"type\":\"kill\"", "\"group\":\"db\"");
    g_assert_null(db_kill); /* memctld killed nothing in it either */
    char mark[32];
    g_assert_cmpint(getxattr(db, "user.memctl.boost", mark, sizeof(mark)), <, 0); /* the mark is gone */
    g_assert_cmpint(errno, ==, ENODATA);
}

/* A size `memctl show GROUP --json` gives. */
static uint64_t shown_u64(ApiTest *t, const char *group, const char *key)
{
    g_autofree char *show = apitest_cli(t, 0, (const char *[]){"show", group, "--json", NULL});
    json_object *o = json_tokener_parse(show), *v;
    g_assert_true(o && json_object_object_get_ex(o, key, &v));
    uint64_t x = json_object_get_uint64(v);
    json_object_put(o);
    return x;
}

/* memctld with a 64M reserve, the groups db (limit 64M, critical with 32M of it) and batch. */
static void start_boost_daemon(ApiTest *t, const char *state_arg)
{
    apitest_start(t, "memctl-reserve-boost", (const char *[]){"--reserve=64M", state_arg, NULL});
    apitest_call_ok(t, "CreateGroup", g_variant_new_parsed("('db', {'limit': <'64M'>, 'priority': <'90'>})"));
    apitest_call_ok(t, "CreateGroup", g_variant_new_parsed("('batch', {'priority': <'10'>})"));
    apitest_call_ok(t, "RegisterCritical", g_variant_new("(sut)", "db", 0u, (guint64)(32 * MiB)));
}

/*
 * Boost: see boost_db. Once the host is calm and the group is back under its own limits, they are
 * put back and the reserve is whole and resident again.
 */
static void test_boost(void)
{
    ApiTest t;
    start_boost_daemon(&t, NULL);
    g_autofree char *db = g_build_filename(t.root, "db", NULL);
    g_autofree char *batch = g_build_filename(t.root, "batch", NULL);
    Hog a, b;
    Batch hog;
    boost_db(&t, db, batch, &a, &hog, &b);

    /* the registration's reserve is in use as the boost: no lease for now */
    ReserveClient c;
    reserve_client_start(&c, &t, db, 32 * MiB, NULL);
    g_free(reserve_client_line(&c, "ready", 10000));
    reserve_client_go(&c);
    g_autofree char *lease = reserve_client_line(&c, "lease", 30000); /* NULL: it exited without one */
    g_assert_null(lease);
    g_autofree char *cerr = reserve_client_stderr(&c);
    int cst = reserve_client_wait(&c, 30000);
    g_test_message("a lease while boosted: %s", cerr);
    g_assert_true(cst != -1 && WIFEXITED(cst) && WEXITSTATUS(cst) != 0);
    g_assert_nonnull(strstr(cerr, "lent to group db as a boost"));
    batch_kill(&hog); /* if memctld has not killed it for the host already */
    /* a change of the group's own settings meanwhile is written with the boost on top */
    apitest_call_ok(&t, "SetLimits", g_variant_new_parsed("('db', {'limit': <'66M'>})"));
    uint64_t max = cgtest_read_u64(db, "memory.max") - 32 * MiB;
    uint64_t high = cgtest_read_u64(db, "memory.high") - 32 * MiB;
    g_assert_cmpuint(max, ==, 66 * MiB);
    g_assert_cmpuint(high, <, max);
    /* a reload meanwhile reads the kernel's values back: the boost on them is not the group's own */
    apitest_call_ok(&t, "ReloadPolicy", NULL);
    g_assert_cmpuint(shown_u64(&t, "db", "MemoryMax"), ==, max);
    g_assert_cmpuint(cgtest_read_u64(db, "memory.max"), ==, max + 32 * MiB);

    (void)hog_kill(&b);
    boost_taken_back(&t, db, max, high, &a);
    (void)hog_kill(&a);
    apitest_stop(&t);
}

/*
 * memctld crashes while db is boosted and above its own limits. Restarted, it must neither take the
 * boost for the group's own limits (and keep them raised for good) nor drop it at once (a max under
 * the usage makes the kernel reclaim and kill in the critical group): it adopts db with its own
 * limits and the boost still on, lends the registration's reserve again, and takes the boost back
 * as usual once db is under its own limits.
 */
static void test_boost_restart(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("memctl-boost-XXXXXX", &err);
    g_assert_no_error(err);
    g_autofree char *state = g_build_filename(dir, "state.json", NULL);
    g_autofree char *a_state = g_strdup_printf("--state-file=%s", state);
    ApiTest t;
    start_boost_daemon(&t, a_state);
    g_autofree char *db = g_build_filename(t.root, "db", NULL);
    g_autofree char *batch = g_build_filename(t.root, "batch", NULL);
    uint64_t max = cgtest_read_u64(db, "memory.max"), high = cgtest_read_u64(db, "memory.high");
    Hog a, b;
    Batch hog;
    boost_db(&t, db, batch, &a, &hog, &b);
    uint64_t shown_high = shown_u64(&t, "db", "MemoryHigh");
    char mark[32] = "";
    g_assert_cmpint(getxattr(db, "user.memctl.boost", mark, sizeof(mark) - 1), >, 0);
    g_assert_cmpuint(g_ascii_strtoull(mark, NULL, 10), ==, 32 * MiB);

    g_autofree char *before = daemontest_crash(&t.d);
    batch_kill(&hog); /* the host calms down while memctld is away */
    g_autofree char *a_bus = g_strdup_printf("--bus-address=%s", t.bus.address);
    daemontest_start(&t.d, t.root, (const char *[]){a_bus, "--reserve=64M", a_state, NULL});
    bustest_wait_name(&t.bus, MEMCTL_BUS_NAME, 10000);

    /* still boosted, db still above its own limits and alive */
    g_assert_cmpuint(cgtest_read_u64(db, "memory.max"), ==, max + 32 * MiB);
    g_assert_cmpuint(cgtest_read_u64(db, "memory.high"), ==, high + 32 * MiB);
    g_assert_cmpuint(cgtest_read_u64(db, "memory.current"), >, max);
    g_assert_true(hog_alive(&a) && hog_alive(&b));
    /* its own limits are what memctld shows, and the reserve is lent again */
    g_assert_cmpuint(shown_u64(&t, "db", "MemoryMax"), ==, max);
    g_assert_cmpuint(shown_u64(&t, "db", "MemoryHigh"), ==, shown_high); /* as before the crash */
    g_assert_cmpuint(apitest_status_u64(&t, "reserve_lent"), ==, 32 * MiB);
    g_autofree char *log = NULL;
    g_file_get_contents(t.d.log, &log, NULL, NULL);
    g_test_message("restarted memctld: %s", log);
    g_assert_nonnull(strstr(log, "db: still boosted 32.0M above its own limits"));

    (void)hog_kill(&b);
    boost_taken_back(&t, db, max, high, &a);
    /* the state file kept the group's own limits, not the boosted ones */
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(state, &text, NULL, NULL));
    json_object *st = json_tokener_parse(text), *groups, *jdb, *v;
    g_assert_true(json_object_object_get_ex(st, "groups", &groups));
    g_assert_true(json_object_object_get_ex(groups, "db", &jdb));
    g_assert_true(json_object_object_get_ex(jdb, "limit", &v));
    g_assert_cmpuint(json_object_get_uint64(v), ==, max);
    json_object_put(st);
    (void)hog_kill(&a);
    apitest_stop(&t);
    unlink(state);
    rmdir(dir);
}

/* Bad input gets named errors and changes nothing. */

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/reserve/boost", test_boost);
    g_test_add_func("/reserve/boost-restart", test_boost_restart);
    return g_test_run();
}
