/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hostile-input regression suite: one memctld (bus, HTTP, policy files, state file, a reserve
 * and a critical registration) takes every class of bad input in turn: bus arguments, policy files,
 * the state file, HTTP, OCI JSON, process names and cgroup names. Each test checks what its class
 * must do (named errors, nothing half-applied); the last checks that memctld is alive, that its
 * groups and registrations are what they were, and that its kill path still kills at once.
 */
#include <errno.h>
#include <stdlib.h>
#include <json-c/json.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "include/memctl/memctl.h"
#include "tests/lib/bustest.h"
#include "tests/lib/cgtest.h"
#include "tests/lib/httptest.h"

#define MiB (1024ull * 1024)

static ApiTest T;    /* the one memctld */
static char *Dir;    /* its policy files and state file */
static char *Before; /* groups and registrations at the start */
static int Port;     /* its /metrics */

static GVariant *call(const char *method, GVariant *params)
{
    g_autoptr(GError) err = NULL;
    GVariant *r = bustest_call(&T.bus, method, params, &err);
    g_assert_no_error(err);
    return r;
}

/* Groups (name, cgroup, min, high, max) and critical registrations, as text to compare. */
static char *snapshot(void)
{
    GString *s = g_string_new(NULL);
    g_autoptr(GVariant) groups = call("ListGroups", NULL);
    g_autoptr(GVariant) arr = g_variant_get_child_value(groups, 0);
    for (gsize i = 0; i < g_variant_n_children(arr); i++) {
        const char *name, *cgroup;
        guint64 cur, min, high, max, kills;
        gdouble full;
        g_variant_get_child(arr, i, "(&so&stttttd)", &name, NULL, &cgroup, &cur, &min, &high, &max, &kills,
                            &full);
        g_string_append_printf(s,
                               "group %s %s min=%" G_GUINT64_FORMAT " high=%" G_GUINT64_FORMAT
                               " max=%" G_GUINT64_FORMAT "\n",
                               name, cgroup, min, high, max);
    }
    g_autoptr(GVariant) crit = call("ListCritical", NULL);
    g_autofree char *c = g_variant_print(crit, FALSE);
    g_string_append_printf(s, "critical %s\n", c);
    return g_string_free(s, FALSE);
}

static void assert_alive(void)
{
    g_assert_cmpint(waitpid(T.d.pid, NULL, WNOHANG), ==, 0);
    g_autoptr(GVariant) st = call("GetStatus", NULL);
}

/* A hog in group `base`, killed by memctld: its record (to free). */
static char *kill_in_base(const char *const *extra)
{
    g_autofree char *grp = g_build_filename(T.root, "base", NULL);
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    g_ptr_array_add(args, "--cgroup");
    g_ptr_array_add(args, grp);
    g_ptr_array_add(args, "--step");
    g_ptr_array_add(args, "1M");
    for (const char *const *e = extra; e && *e; e++)
        g_ptr_array_add(args, (gpointer)*e);
    g_ptr_array_add(args, NULL);
    Hog hog;
    hog_start(&hog, (const char *const *)args->pdata);
    int pid = (int)hog.pid;
    int st = hog_wait(&hog, 60000);
    g_assert_true(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    g_autofree char *needle = g_strdup_printf("\"pid\":%d,", pid);
    char *rec = daemontest_wait_record(&T.d, 10000, needle, "\"type\":\"kill\"");
    g_assert_nonnull(rec);
    g_assert_cmpuint(cgtest_read_key(grp, "memory.events.local", "oom_kill"), ==, 0);
    return rec;
}

/* ---- process names ---------------------------------------------------------------------------- */

typedef struct {
    bool seen;
    char *comm;
} KilledSignal;

static void on_killed(GDBusConnection *c, const char *sender, const char *path, const char *iface,
                      const char *signal, GVariant *params, gpointer data)
{
    KilledSignal *k = data;
    const char *comm;
    g_variant_get(params, "(su&sstt)", NULL, NULL, &comm, NULL, NULL, NULL);
    g_free(k->comm);
    k->comm = g_strdup(comm);
    k->seen = true;
}

/*
 * A process name is any 15 bytes its process chose (prctl), valid UTF-8 or not, or cut inside a
 * character: memctld shows it escaped the same way everywhere (\xNN), never drops it, never logs a
 * GLib critical (memctld runs with fatal warnings under the tests), and does not take it for a field
 * of /proc/<pid>/status.
 */
static void test_comm(void)
{
    KilledSignal k = {0};
    guint sub = g_dbus_connection_signal_subscribe(T.bus.conn, MEMCTL_BUS_NAME, MEMCTL_MANAGER_INTERFACE,
                                                   "Killed", MEMCTL_MANAGER_PATH, NULL,
                                                   G_DBUS_SIGNAL_FLAGS_NONE, on_killed, &k, NULL);
    static const struct {
        const char *raw, *shown;
    } names[] = {
            {"\xff\xfehog\xe2\x82", "\\xff\\xfehog\\xe2\\x82"}, /* invalid, and a sequence cut short */
            {"tab\tnl\nbs\\", "tab\\x09nl\\x0abs\\\\"},         /* controls and a backslash */
            {"RssAnon:\t0 kB", "RssAnon:\\x090 kB"},            /* a name that looks like a field */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        k.seen = false;
        g_autofree char *rec = kill_in_base((const char *[]){"--comm", names[i].raw, NULL});
        json_object *o = json_tokener_parse(rec), *v;
        g_assert_nonnull(o);
        g_assert_true(json_object_object_get_ex(o, "comm", &v));
        g_assert_cmpstr(json_object_get_string(v), ==, names[i].shown);
        json_object_put(o);
        g_assert_true(bustest_wait_flag(&k.seen, 5000));
        g_assert_cmpstr(k.comm, ==, names[i].shown);
    }
    /* ListKills keeps every record with its name, and memctl kills prints them */
    g_autoptr(GVariant) kills = call("ListKills", g_variant_new("(t)", (guint64)0));
    g_autoptr(GVariant) arr = g_variant_get_child_value(kills, 0);
    guint found = 0;
    for (gsize i = 0; i < g_variant_n_children(arr); i++) {
        g_autoptr(GVariant) d = g_variant_get_child_value(arr, i);
        const char *comm = NULL;
        g_assert_true(g_variant_lookup(d, "comm", "&s", &comm));
        for (size_t j = 0; j < G_N_ELEMENTS(names); j++)
            found += strcmp(comm, names[j].shown) == 0;
    }
    g_assert_cmpuint(found, ==, G_N_ELEMENTS(names));
    g_autofree char *out = apitest_cli(&T, 0, (const char *[]){"kills", NULL});
    for (size_t j = 0; j < G_N_ELEMENTS(names); j++)
        g_assert_nonnull(strstr(out, names[j].shown));
    g_dbus_connection_signal_unsubscribe(T.bus.conn, sub);
    g_free(k.comm);
    assert_alive();
}

/* ---- after all of it ---------------------------------------------------------------------------- */

/* memctld is alive, its groups and registrations are what they were, and it kills at once. */
static void test_still_kills(void)
{
    assert_alive();
    g_autofree char *now = snapshot();
    g_assert_cmpstr(now, ==, Before);
    g_autofree char *rec = kill_in_base(NULL);
    json_object *o = json_tokener_parse(rec), *lat, *v;
    g_assert_true(json_object_object_get_ex(o, "latency", &lat));
    g_assert_true(json_object_object_get_ex(lat, "event_to_signal_usec", &v));
    g_test_message("kill after everything: %.1f ms from crossing high to SIGKILL",
                   json_object_get_int64(v) / 1000.0);
    g_assert_cmpint(json_object_get_int64(v), <, 2 * G_USEC_PER_SEC);
    json_object_put(o);
}

static void start(void)
{
    g_autoptr(GError) err = NULL;
    Dir = g_dir_make_tmp("memctl-hostile-XXXXXX", &err);
    g_assert_no_error(err);
    g_autofree char *conf = g_build_filename(Dir, "memctld.json", NULL);
    g_autofree char *dropins = g_build_filename(Dir, "policy.d", NULL);
    g_autofree char *state = g_build_filename(Dir, "state.json", NULL);
    g_assert_cmpint(g_mkdir_with_parents(dropins, 0755), ==, 0);
    g_assert_true(g_file_set_contents(conf, "{\"groups\": {\"base\": {\"limit\": \"64M\"}}}\n", -1, NULL));
    g_autofree char *a_conf = g_strdup_printf("--config=%s", conf);
    g_autofree char *a_dir = g_strdup_printf("--config-dir=%s", dropins);
    g_autofree char *a_state = g_strdup_printf("--state-file=%s", state);
    const char *args[] = {"--metrics-address=127.0.0.1:0", "--reserve=32M", a_conf, a_dir, a_state, NULL};
    apitest_start(&T, "memctl-hostile", args);
    g_autoptr(GVariant) a = call("CreateGroup", g_variant_new_parsed("('tenant', {'limit': <'48M'>})"));
    g_autoptr(GVariant) r =
            call("RegisterCritical", g_variant_new("(sut)", "tenant", 0u, (guint64)(16 * MiB)));
    g_autoptr(GVariant) st = call("GetStatus", NULL);
    g_autoptr(GVariant) dict = g_variant_get_child_value(st, 0);
    const char *url = NULL;
    g_assert_true(g_variant_lookup(dict, "metrics_url", "&s", &url));
    g_assert_true(g_str_has_prefix(url, "http://127.0.0.1:"));
    Port = atoi(url + strlen("http://127.0.0.1:"));
    Before = snapshot();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    start();
    g_test_add_func("/hostile/comm", test_comm);
    g_test_add_func("/hostile/zz-still-kills", test_still_kills);
    int r = g_test_run();
    apitest_stop(&T);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", Dir);
    (void)!system(cmd);
    g_free(Dir);
    g_free(Before);
    return r;
}
