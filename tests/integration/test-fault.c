/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Faults: memctld is killed with SIGKILL at the worst moments (in a kill episode, in a reload, while
 * a lease is held; in a boost: /reserve/boost-restart) and started again on the same root, bus and
 * state file. Everything must be as it should be afterwards: every group with its limits, every
 * registration, the kill path working, and no lease memory shared between the old and the new.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "include/memctl/memctl.h"
#include "tests/lib/bustest.h"
#include "tests/lib/cgtest.h"
#include "tests/lib/reservetest.h"

#define MiB (1024ull * 1024)

static GVariant *call(ApiTest *t, const char *method, GVariant *params)
{
    g_autoptr(GError) err = NULL;
    GVariant *r = bustest_call(&t->bus, method, params, &err);
    g_assert_no_error(err);
    return r;
}

typedef struct {
    char *dir, *state, *a_state, *a_bus;
} Fault;

static void fault_start(Fault *f, ApiTest *t, const char *prefix, const char *const *extra)
{
    g_autoptr(GError) err = NULL;
    f->dir = g_dir_make_tmp("memctl-fault-XXXXXX", &err);
    g_assert_no_error(err);
    f->state = g_build_filename(f->dir, "state.json", NULL);
    f->a_state = g_strdup_printf("--state-file=%s", f->state);
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    g_ptr_array_add(args, f->a_state);
    for (const char *const *e = extra; e && *e; e++)
        g_ptr_array_add(args, (gpointer)*e);
    g_ptr_array_add(args, NULL);
    apitest_start(t, prefix, (const char *const *)args->pdata);
    f->a_bus = g_strdup_printf("--bus-address=%s", t->bus.address);
}

/* SIGKILL, then the same memctld again on the same root, bus and state file. */
static void fault_restart(Fault *f, ApiTest *t, const char *const *extra)
{
    g_autofree char *before = daemontest_crash(&t->d);
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    g_ptr_array_add(args, f->a_bus);
    g_ptr_array_add(args, f->a_state);
    for (const char *const *e = extra; e && *e; e++)
        g_ptr_array_add(args, (gpointer)*e);
    g_ptr_array_add(args, NULL);
    daemontest_start(&t->d, t->root, (const char *const *)args->pdata);
    bustest_wait_name(&t->bus, MEMCTL_BUS_NAME, 10000);
}

static void fault_stop(Fault *f, ApiTest *t)
{
    apitest_stop(t);
    cgtest_remove_tmpdir(f->dir);
    g_free(f->dir);
    g_free(f->state);
    g_free(f->a_state);
    g_free(f->a_bus);
}

static bool killed_by_sigkill(int status)
{
    return status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

/*
 * (a) In a kill episode: the hog is over high and memctld samples it when it dies. The restarted
 * memctld adopts the group over high and kills the hog itself; the kernel never does.
 */
static void test_mid_episode(void)
{
    /* this memctld decides only after 1,000 windows without progress (50 s), never on the stall, and
     * not on knowledge for an overage under its 8 MiB progress floor (docs/POLICY.md): it is in the
     * episode, sampling, when it dies; the restarted one has the defaults */
    g_autoptr(GError) err = NULL;
    g_autofree char *pdir = g_dir_make_tmp("memctl-fault-policy-XXXXXX", &err);
    g_autofree char *conf = g_build_filename(pdir, "memctld.json", NULL);
    g_assert_true(g_file_set_contents(conf,
                                      "{\"defaults\": {\"stall_budget_pct\": 100, \"stall_windows\": 100000, "
                                      "\"progress_floor\": \"8M\"}}",
                                      -1, NULL));
    g_autofree char *a_conf = g_strdup_printf("--config=%s", conf);
    ApiTest t;
    Fault f;
    fault_start(&f, &t, "memctl-fault-episode", (const char *[]){a_conf, "--stuck-windows=1000", NULL});
    apitest_call_ok(&t, "CreateGroup", g_variant_new_parsed("('g', {'limit': <'64M'>})"));
    g_autofree char *grp = g_build_filename(t.root, "g", NULL);
    Hog hog;
    /* grows to a little above high (60.8M) and stays there: throttled, nothing else to reclaim */
    hog_start(&hog, (const char *[]){"--cgroup", grp, "--total", "62M", "--step", "2M", "--hold", NULL});
    g_assert_true(hog_wait_line(&hog, "grown", 60000));
    g_assert_cmpuint(cgtest_read_u64(grp, "memory.current"), >, cgtest_read_u64(grp, "memory.high"));
    g_assert_true(hog_alive(&hog));
    fault_restart(&f, &t, NULL);
    int hog_pid = (int)hog.pid; /* hog_wait() forgets it */
    int st = hog_wait(&hog, 60000);
    g_assert_true(killed_by_sigkill(st));
    g_autofree char *needle = g_strdup_printf("\"pid\":%d,", hog_pid);
    g_autofree char *rec = daemontest_wait_record(&t.d, 10000, needle, "\"type\":\"kill\"");
    if (!rec) { /* the restarted memctld's own record */
        g_autofree char *log = NULL, *kills = NULL;
        g_file_get_contents(t.d.log, &log, NULL, NULL);
        g_file_get_contents(t.d.kill_log, &kills, NULL, NULL);
        g_error("no kill record for the hog %d; memctld: %s; kill log: %s", hog_pid, log, kills);
    }
    g_assert_cmpuint(cgtest_read_key(grp, "memory.events.local", "oom_kill"), ==, 0);
    g_assert_cmpuint(cgtest_read_u64(grp, "memory.max"), ==, 64 * MiB);
    fault_stop(&f, &t);
    cgtest_remove_tmpdir(pdir);
}

/*
 * (c) In a reload that changes every group's limit: whatever the moment, the restarted memctld
 * holds the policy files' word (all new limits), its state file is whole, and its registration is
 * there.
 */
static void test_mid_reload(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *pdir = g_dir_make_tmp("memctl-fault-policy-XXXXXX", &err);
    g_autofree char *conf = g_build_filename(pdir, "memctld.json", NULL);
    GString *a = g_string_new("{\"groups\": {"), *b = g_string_new("{\"groups\": {");
    for (int i = 0; i < 24; i++) {
        g_string_append_printf(a, "%s\"g%02d\": {\"limit\": \"64M\"}", i ? ", " : "", i);
        g_string_append_printf(b, "%s\"g%02d\": {\"limit\": \"96M\", \"min\": \"1M\"}", i ? ", " : "", i);
    }
    g_string_append(a, "}}");
    g_string_append(b, "}}");
    g_assert_true(g_file_set_contents(conf, a->str, -1, NULL));
    g_autofree char *a_conf = g_strdup_printf("--config=%s", conf);
    ApiTest t;
    Fault f;
    fault_start(&f, &t, "memctl-fault-reload", (const char *[]){a_conf, "--reserve=16M", NULL});
    apitest_call_ok(&t, "CreateGroup", g_variant_new_parsed("('dyn', {'limit': <'32M'>})"));
    apitest_call_ok(&t, "RegisterCritical", g_variant_new("(sut)", "dyn", 0u, (guint64)(8 * MiB)));
    g_assert_true(g_file_set_contents(conf, b->str, -1, NULL));
    /* the reload, and SIGKILL while it writes (its reply never comes) */
    g_dbus_connection_call(t.bus.conn, MEMCTL_BUS_NAME, MEMCTL_MANAGER_PATH, MEMCTL_MANAGER_INTERFACE,
                           "ReloadPolicy", NULL, NULL, G_DBUS_CALL_FLAGS_NONE, 30000, NULL, NULL, NULL);
    g_dbus_connection_flush_sync(t.bus.conn, NULL, NULL);
    g_usleep(20 * 1000);
    fault_restart(&f, &t, (const char *[]){a_conf, "--reserve=16M", NULL});
    for (int i = 0; i < 24; i++) {
        g_autofree char *name = g_strdup_printf("g%02d", i);
        g_autofree char *dir = g_build_filename(t.root, name, NULL);
        g_assert_cmpuint(cgtest_read_u64(dir, "memory.max"), ==, 96 * MiB);
        g_assert_cmpuint(cgtest_read_u64(dir, "memory.min"), ==, 1 * MiB);
    }
    g_autofree char *dyn = g_build_filename(t.root, "dyn", NULL);
    g_assert_cmpuint(cgtest_read_u64(dyn, "memory.max"), ==, 32 * MiB);
    g_autoptr(GVariant) crit = call(&t, "ListCritical", NULL);
    g_autofree char *text = g_variant_print(crit, FALSE);
    g_assert_nonnull(strstr(text, "('dyn', 0, 8388608,"));
    g_autofree char *saved = NULL;
    g_assert_true(g_file_get_contents(f.state, &saved, NULL, NULL));
    g_assert_nonnull(strstr(saved, "\"dyn\""));
    g_autofree char *log = NULL;
    g_assert_true(g_file_get_contents(t.d.log, &log, NULL, NULL));
    g_assert_null(strstr(log, "state file")); /* nothing left out */
    g_string_free(a, TRUE);
    g_string_free(b, TRUE);
    fault_stop(&f, &t);
    cgtest_remove_tmpdir(pdir);
}

/*
 * (d) While a lease is held: the client keeps its mapping of the dead memctld's lease. The restarted
 * memctld has its registration back, no lease out, a whole resident reserve, and a new lease for the
 * client that shares nothing with the old mapping.
 */
static void test_lease_held(void)
{
    ApiTest t;
    Fault f;
    fault_start(&f, &t, "memctl-fault-lease", (const char *[]){"--reserve=64M", NULL});
    apitest_call_ok(&t, "CreateGroup", g_variant_new_parsed("('shim', {'min': <'4M'>})"));
    apitest_call_ok(&t, "RegisterCritical", g_variant_new("(sut)", "shim", 0u, (guint64)(16 * MiB)));
    g_autofree char *grp = g_build_filename(t.root, "shim", NULL);
    ReserveClient a;
    reserve_client_start(&a, &t, grp, 16 * MiB, (const char *[]){"--commands", "--fill-byte", "171", NULL});
    g_free(reserve_client_line(&a, "ready", 10000));
    reserve_client_go(&a);
    g_free(reserve_client_line(&a, "done", 30000));

    fault_restart(&f, &t, (const char *[]){"--reserve=64M", NULL});
    g_autoptr(GVariant) crit = call(&t, "ListCritical", NULL);
    g_autofree char *text = g_variant_print(crit, FALSE);
    g_assert_nonnull(strstr(text, "('shim', 0, 16777216, 0, 0)")); /* registered, no lease out */
    g_autoptr(GVariant) st = call(&t, "GetStatus", NULL);
    g_autoptr(GVariant) d = g_variant_get_child_value(st, 0);
    guint64 total = 0, resident = 0;
    g_assert_true(g_variant_lookup(d, "reserve_total", "t", &total));
    g_assert_true(g_variant_lookup(d, "reserve_resident", "t", &resident));
    g_assert_cmpuint(resident, ==, total);
    /* the old mapping is the client's alone now: its own bytes, and a new lease shares nothing */
    g_autofree char *old = reserve_client_ask(&a, "verify 171", "verify", 10000);
    g_assert_cmpstr(old, ==, "verify ok");
    ReserveClient b;
    reserve_client_start(&b, &t, grp, 16 * MiB,
                         (const char *[]){"--commands", "--check-zero", "--fill-byte", "205", NULL});
    g_free(reserve_client_line(&b, "ready", 10000));
    reserve_client_go(&b);
    g_autofree char *zero = reserve_client_line(&b, "zero", 30000);
    g_assert_cmpstr(zero, ==, "zero ok");
    g_free(reserve_client_line(&b, "done", 30000));
    g_autofree char *old_again = reserve_client_ask(&a, "verify 171", "verify", 10000);
    g_assert_cmpstr(old_again, ==, "verify ok"); /* none of b's bytes */
    reserve_client_send(&a, "quit");
    reserve_client_send(&b, "quit");
    g_assert_cmpint(reserve_client_wait(&a, 10000), ==, 0);
    g_assert_cmpint(reserve_client_wait(&b, 10000), ==, 0);
    fault_stop(&f, &t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/fault/mid-episode", test_mid_episode);
    g_test_add_func("/fault/mid-reload", test_mid_reload);
    g_test_add_func("/fault/lease-held", test_lease_held);
    return g_test_run();
}
