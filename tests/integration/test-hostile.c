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
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "include/memctl/memctl.h"
#include "tests/lib/bustest.h"
#include "tests/lib/cgtest.h"
#include "tests/lib/daemontest.h"
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
    if (!rec) { /* what memctld said, and what the kill log holds, name the culprit */
        g_autofree char *kills = NULL, *log = NULL;
        (void)g_file_get_contents(T.d.kill_log, &kills, NULL, NULL);
        (void)g_file_get_contents(T.d.log, &log, NULL, NULL);
        g_error("no kill record for hog %d; kill log:\n%s\nmemctld:\n%s", pid, kills ? kills : "(none)",
                log ? log : "(none)");
    }
    g_assert_cmpuint(cgtest_read_key(grp, "memory.events.local", "oom_kill"), ==, 0);
    return rec;
}

/* A call that must fail (any error but a timeout), within 5 s. */
static void refused(const char *method, GVariant *params)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GVariant) sent = params ? g_variant_ref_sink(params) : NULL;
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(GVariant) r = bustest_call(&T.bus, method, sent, &err);
    if (r) {
        g_autofree char *args = sent ? g_variant_print(sent, FALSE) : g_strdup("()");
        g_error("%s%.200s was accepted", method, args);
    }
    g_assert_false(g_error_matches(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT));
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 5 * G_USEC_PER_SEC);
}

/* ---- bus arguments ------------------------------------------------------------------------------ */

/*
 * Every method with every wrong signature (GLib refuses those against the contract), and with the
 * right signature and values no caller should get through: out-of-range numbers, empty, huge and
 * escaping names, every value type for every key, 10,000 keys, a million pids, every flag bit. Each is
 * refused at once; nothing changes (the last test compares).
 */
static void test_bus_args(void)
{
    static const char *const methods[] = {
            "CreateGroup",        "RemoveGroup",    "SetLimits",     "AttachProcesses",  "GetGroup",
            "KillGroup",          "ListKills",      "GetMetrics",    "RegisterCritical", "ClaimCritical",
            "UnregisterCritical", "AcquireReserve", "ReleaseReserve"};
    for (size_t i = 0; i < G_N_ELEMENTS(methods); i++) {
        refused(methods[i], g_variant_new("(ii)", 1, 2));
        refused(methods[i], g_variant_new("(sssss)", "a", "b", "c", "d", "e"));
        refused(methods[i], g_variant_new("(v)", g_variant_new_string("x")));
    }
    refused("ListGroups", g_variant_new("(s)", "x"));
    refused("GetStatus", g_variant_new("(u)", 1u));

    g_autofree char *huge = g_strnfill(1 << 20, 'a');
    const char *names[] = {"", "..", "a/../b", "/abs", "a//b", "a\tb", "memctld", ".control", huge, "nosuch"};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        if (strcmp(names[i], "nosuch") != 0) /* a name CreateGroup would make */
            refused("CreateGroup",
                    g_variant_new("(s@a{sv})", names[i], bustest_dict1("min", g_variant_new_uint64(0))));
        refused("SetLimits",
                g_variant_new("(s@a{sv})", names[i], bustest_dict1("min", g_variant_new_uint64(0))));
        refused("GetGroup", g_variant_new("(s)", names[i]));
        refused("RemoveGroup", g_variant_new("(st)", names[i], (guint64)0));
        refused("KillGroup", g_variant_new("(sst)", names[i], "", (guint64)0));
        refused("ClaimCritical", g_variant_new("(st)", names[i], (guint64)0));
    }
    /* values: every key with every type it must refuse, and nonsense */
    GVariant *values[] = {g_variant_new_string("lots"),
                          g_variant_new_string("1e9"),
                          g_variant_new_string("-1"),
                          g_variant_new_string(" 1G"),
                          g_variant_new_int32(-1),
                          g_variant_new_double(1.5),
                          g_variant_new_strv(NULL, 0),
                          g_variant_new_variant(g_variant_new_string("1G")),
                          g_variant_new_string(huge),
                          g_variant_new_byte(1),
                          g_variant_new_string("99999999999999999999999G")};
    static const char *const keys[] = {"min",      "low",      "high",      "max",     "swap_max", "limit",
                                       "headroom", "priority", "oom_group", "unified", "nosuch"};
    for (size_t v = 0; v < G_N_ELEMENTS(values); v++)
        g_variant_ref_sink(values[v]); /* each is used for every key */
    for (size_t k = 0; k < G_N_ELEMENTS(keys); k++)
        for (size_t v = 0; v < G_N_ELEMENTS(values); v++)
            refused("SetLimits", g_variant_new("(s@a{sv})", "base", bustest_dict1(keys[k], values[v])));
    for (size_t v = 0; v < G_N_ELEMENTS(values); v++)
        g_variant_unref(values[v]);
    static const char *const slices[] = {"a//b", "/abs.slice", "a b", "tab\t.slice", "..", "x/../y"};
    for (size_t i = 0; i < G_N_ELEMENTS(slices); i++)
        refused("SetLimits",
                g_variant_new("(s@a{sv})", "base", bustest_dict1("slice", g_variant_new_string(slices[i]))));
    refused("SetLimits",
            g_variant_new("(s@a{sv})", "base", bustest_dict1("slice", g_variant_new_string(huge))));
    refused("SetLimits", g_variant_new("(s@a{sv})", "base", bustest_dict1("slice", g_variant_new_uint32(1))));
    refused("SetLimits", g_variant_new("(s@a{sv})", "base", bustest_dict1("limit", g_variant_new_uint64(0))));
    refused("SetLimits",
            g_variant_new("(s@a{sv})", "base", bustest_dict1("priority", g_variant_new_uint32(0))));
    refused("SetLimits",
            g_variant_new("(s@a{sv})", "base", bustest_dict1("priority", g_variant_new_uint32(101))));
    refused("SetLimits",
            g_variant_new("(s@a{sv})", "base", bustest_dict1("headroom", g_variant_new_string("max"))));
    refused("SetLimits", g_variant_new("(s@a{sv})", "base",
                                       bustest_dict1("unified", g_variant_new_parsed("{'cpu.max': '1'}"))));
    refused("SetLimits",
            g_variant_new("(s@a{sv})", "base",
                          bustest_dict1("unified", g_variant_new_parsed("{'memory.max': 'lots'}"))));
    GVariantBuilder many;
    g_variant_builder_init(&many, G_VARIANT_TYPE("a{sv}"));
    for (int i = 0; i < 10000; i++) {
        g_autofree char *k = g_strdup_printf("key%d", i);
        g_variant_builder_add(&many, "{sv}", k, g_variant_new_uint64((guint64)i));
    }
    refused("SetLimits", g_variant_new("(s@a{sv})", "base", g_variant_builder_end(&many)));
    refused("SetLimits",
            g_variant_new("(s@a{sv})", "base", g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)));
    /* pids */
    guint32 bad_pids[][2] = {{0, 0}, {G_MAXUINT32, 0},      {1, 0},
                             {2, 0}, {(guint32)T.d.pid, 0}, {0x7ffffff0, 0}};
    for (size_t i = 0; i < G_N_ELEMENTS(bad_pids); i++)
        refused("AttachProcesses",
                g_variant_new("(s@au)", "base",
                              g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, bad_pids[i], 1, 4)));
    g_autofree guint32 *million = g_new0(guint32, 1000000);
    refused("AttachProcesses",
            g_variant_new("(s@au)", "base",
                          g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, million, 1000000, 4)));
    refused("AttachProcesses",
            g_variant_new("(s@au)", "base", g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, NULL, 0, 4)));
    /* flags, reasons, formats, registrations, leases */
    static const guint64 flags[] = {2, 4, 0x100, G_MAXUINT64};
    for (size_t i = 0; i < G_N_ELEMENTS(flags); i++) {
        refused("KillGroup", g_variant_new("(sst)", "base", "", flags[i]));
        refused("RemoveGroup", g_variant_new("(st)", "base", flags[i] | 2));
    }
    refused("KillGroup", g_variant_new("(sst)", "base", huge, (guint64)1));
    refused("KillGroup", g_variant_new("(sst)", "base", "bell\a", (guint64)1));
    refused("KillGroup", g_variant_new("(sst)", "base", "", (guint64)1)); /* no process in it */
    refused("GetMetrics", g_variant_new("(s)", "json"));
    refused("GetMetrics", g_variant_new("(s)", huge));
    refused("RegisterCritical", g_variant_new("(sut)", "", 0u, (guint64)0));
    refused("RegisterCritical", g_variant_new("(sut)", "base", 1u, (guint64)0));
    refused("RegisterCritical", g_variant_new("(sut)", "", G_MAXUINT32, (guint64)0));
    refused("RegisterCritical", g_variant_new("(sut)", "", (guint32)T.d.pid, (guint64)0));
    refused("RegisterCritical", g_variant_new("(sut)", "nosuch", 0u, (guint64)0));
    refused("RegisterCritical", g_variant_new("(sut)", "base", 0u, G_MAXUINT64));
    refused("RegisterCritical", g_variant_new("(sut)", "tenant", 0u, (guint64)0)); /* registered already */
    refused("ClaimCritical", g_variant_new("(st)", "base", (guint64)0));           /* no claims allowed */
    refused("UnregisterCritical", g_variant_new("(su)", "nosuch", 0u));
    refused("UnregisterCritical", g_variant_new("(su)", "", 0x7ffffff0u));
    refused("AcquireReserve", g_variant_new("(t)", (guint64)0));
    refused("AcquireReserve", g_variant_new("(t)", G_MAXUINT64)); /* the test is no critical client */
    refused("ReleaseReserve", g_variant_new("(u)", 0u));
    refused("ReleaseReserve", g_variant_new("(u)", G_MAXUINT32));
    g_autoptr(GVariant) none = call("ListKills", g_variant_new("(t)", G_MAXUINT64));
    assert_alive();
}

/* ---- policy files ------------------------------------------------------------------------------- */

/*
 * Policy files an operator got wrong, reloaded: each is refused naming the file, and nothing
 * changes. A FIFO and a link to /dev/zero must not hang memctld or fill its memory.
 */
static void test_policy_files(void)
{
    g_autofree char *dropins = g_build_filename(Dir, "policy.d", NULL);
    g_autofree char *bad = g_build_filename(dropins, "bad.json", NULL);
    g_autofree char *zeros = g_strnfill(62, '0');
    g_autofree char *deep = g_strnfill(200, '[');
    g_autofree char *deep_doc = g_strdup_printf("{\"groups\": %s", deep);
    g_autofree char *long_size = g_strdup_printf("{\"groups\": {\"base\": {\"limit\": \"%s1G\"}}}", zeros);
    g_autofree char *big = g_malloc(5 << 20);
    memset(big, ' ', 5 << 20);
    big[0] = '{';
    big[(5 << 20) - 2] = '}';
    big[(5 << 20) - 1] = '\0';
    const char *texts[] = {
            "{\"groups\": {\"base\": {\"limit\": \"1G\", \"limit\": \"2G\"}}}",
            "{\"groups\": {\"base\\u0000x\": {}}}",
            "{\"groups\": {\"b\xff\xfe\": {}}}",
            "{\"groups\": {\"base\": {\"limit\": 99999999999999999999999}}}",
            "{\"groups\": {\"../etc\": {}}}",
            "{\"daemon\": {\"metrics_address\": \"0.0.0.0:+1\"}}",
            "{\"daemon\": {\"critical_claims\": [\"*\\n\"]}}",
            long_size,
            deep_doc,
            big,
            "\xef\xbb\xbf{}",
            "",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(texts); i++) {
        g_assert_true(g_file_set_contents(bad, texts[i], -1, NULL));
        g_autoptr(GError) err = NULL;
        g_autoptr(GVariant) r = bustest_call(&T.bus, "ReloadPolicy", NULL, &err);
        g_assert_null(r);
        g_assert_nonnull(strstr(err->message, "bad.json"));
    }
    g_assert_no_errno(unlink(bad));
    g_assert_no_errno(mkfifo(bad, 0644));
    g_autoptr(GError) e1 = NULL;
    g_autoptr(GVariant) r1 = bustest_call(&T.bus, "ReloadPolicy", NULL, &e1);
    g_assert_null(r1);
    g_assert_nonnull(strstr(e1->message, "not a regular file"));
    g_assert_no_errno(unlink(bad));
    g_assert_no_errno(symlink("/dev/zero", bad));
    g_autoptr(GError) e2 = NULL;
    g_autoptr(GVariant) r2 = bustest_call(&T.bus, "ReloadPolicy", NULL, &e2);
    g_assert_null(r2);
    g_assert_nonnull(strstr(e2->message, "not a regular file"));
    g_assert_no_errno(unlink(bad));
    g_autoptr(GVariant) ok = call("ReloadPolicy", NULL); /* and a good one still works */
    assert_alive();
}

/* ---- the state file ----------------------------------------------------------------------------- */

/* A second memctld (its own root) starting on a hostile state file: it starts, names what it left
 * out, keeps the file aside, and stops cleanly. */
static void start_on_state(const char *what, const char *state_text, bool fifo, const char *want)
{
    g_autofree char *dir = g_dir_make_tmp("memctl-hostile-state-XXXXXX", NULL);
    g_autofree char *state = g_build_filename(dir, "state.json", NULL);
    if (fifo)
        g_assert_no_errno(mkfifo(state, 0644));
    else
        g_assert_true(g_file_set_contents(state, state_text, -1, NULL));
    g_autofree char *a_state = g_strdup_printf("--state-file=%s", state);
    g_autofree char *root = apitest_root_path("memctl-hostile-state");
    cgtest_remove_tree(root);
    DaemonTest d;
    daemontest_start(&d, root,
                     (const char *[]){"--no-bus", "--metrics-address=", "--config=", a_state, NULL});
    g_autofree char *log = NULL;
    g_assert_true(g_file_get_contents(d.log, &log, NULL, NULL));
    if (!strstr(log, want))
        g_error("state file %s: expected '%s' in: %s", what, want, log);
    daemontest_stop(&d);
    cgtest_remove_tree(root);
    cgtest_remove_tmpdir(dir);
}

static void test_state_file(void)
{
    g_autofree char *binary = g_malloc(4096);
    for (int i = 0; i < 4095; i++)
        binary[i] = (char)(1 + (i * 7919) % 255);
    binary[4095] = '\0';
    start_on_state("binary", binary, false, "nothing restored");
    start_on_state(
            "nasty entries",
            "{\"version\": 1, \"groups\": {\"../x\": {}, \"g\": {\"limit\": \"1G\", \"limit\": \"2G\"}},"
            " \"critical\": [{\"pid\": 1, \"start_time\": 1, \"bytes\": 18446744073709551615}]}",
            false, "nothing restored");
    start_on_state(
            "entries that cannot be restored",
            "{\"version\": 1, \"groups\": {\"../x\": {}, \"ok\": {\"limit\": \"64M\"}}, \"critical\": ["
            "{\"pid\": 1, \"start_time\": 1, \"bytes\": 0}, {\"group\": \"ok\", \"bytes\": 99999999999999}]}",
            false, "restored all but");
    start_on_state("a FIFO", NULL, true, "not a regular file");
    assert_alive();
}

/* ---- OCI JSON ----------------------------------------------------------------------------------- */

/* The hook fed hostile state and config: exit 0 (nothing says required), a named problem, nothing
 * created, memctld untouched. */
static void test_oci(void)
{
    g_autofree char *dir = g_dir_make_tmp("memctl-hostile-oci-XXXXXX", NULL);
    g_autofree char *cfile = g_build_filename(dir, "config.json", NULL);
    g_autofree char *sfile = g_build_filename(dir, "state.json", NULL);
    g_autofree char *deep = g_strnfill(100, '{');
    g_autofree char *state_ok =
            g_strdup_printf("{\"id\": \"h\", \"status\": \"creating\", \"bundle\": \"%s\"}", dir);
    const char *rel = T.root + strlen(cgtest_mount());
    g_autofree char *escape = g_strdup_printf("{\"linux\": {\"cgroupsPath\": \"%s/../../etc\"}}", rel);
    g_autofree char *huge_unified =
            g_strdup_printf("{\"linux\": {\"cgroupsPath\": \"%s/h\", \"resources\": {\"unified\": {%s}}}}",
                            rel, "\"memory.a\": \"1\", \"memory.b\": \"2\", \"memory.c\": \"3\"");
    const struct {
        const char *state, *config;
    } cases[] = {
            {"\x01\x02\x03", "{}"},
            {deep, "{}"},
            {state_ok, deep},
            {state_ok, "{\"linux\": {\"cgroupsPath\": 42}}"},
            {state_ok, escape},
            {state_ok, huge_unified},
            {state_ok,
             "{\"annotations\": {\"org.memctl.reserve\": \"99999999999999999999999G\"}, \"linux\": {}}"},
            {"{\"id\": \"../../x\", \"status\": \"creating\", \"bundle\": \"/\", \"pid\": 1}", "{}"},
    };
    g_autofree char *memctl = g_build_filename(g_getenv("MEMCTL_BUILD_ROOT"), "client", "memctl", NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_assert_true(g_file_set_contents(cfile, cases[i].config, -1, NULL));
        g_assert_true(g_file_set_contents(sfile, cases[i].state, -1, NULL));
        g_autofree char *cmd = g_strdup_printf(
                "MEMCTL_OCI_RUN_DIR='%s/run' '%s' '--bus-address=%s' oci-hook createRuntime < '%s'", dir,
                memctl, T.bus.address, sfile);
        const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
        g_autofree char *out = NULL, *errs = NULL;
        int st = -1;
        g_assert_true(
                g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &errs, &st, NULL));
        g_assert_true(WIFEXITED(st));
        g_assert_cmpint(WEXITSTATUS(st), ==, 0);
        g_assert_nonnull(strstr(errs, "memctl oci-hook: "));
    }
    g_autofree char *h = g_build_filename(T.root, "h", NULL);
    g_assert_false(g_file_test(h, G_FILE_TEST_EXISTS));
    cgtest_remove_tmpdir(dir);
    assert_alive();
}

/* ---- cgroup names -------------------------------------------------------------------------------- */

/* Cgroups made below the root with names memctl would never make: a reload adopts none of them,
 * and nothing memctld shows or writes chokes on them. */
static void test_cgroup_names(void)
{
    g_autofree char *long_name = g_strnfill(250, 'n');
    const char *names[] = {"a b",         "tab\tname", "nl\nname", "\xff\xfe", "quote\"",
                           "back\\slash", ".hidden",   long_name,  "%s%n"};
    bool made[G_N_ELEMENTS(names)];
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *path = g_build_filename(T.root, names[i], NULL);
        made[i] = mkdir(path, 0755) == 0;
        g_assert_true(made[i] || errno == EINVAL); /* the kernel refuses some (a newline) itself */
    }
    g_autoptr(GVariant) r = call("ReloadPolicy", NULL);
    g_autofree char *now = snapshot();
    g_assert_cmpstr(now, ==, Before);
    Reply m = http_get(Port, "/metrics", NULL);
    g_assert_cmpint(m.status, ==, 200);
    http_reply_clear(&m);
    g_autofree char *list = apitest_cli(&T, 0, (const char *[]){"list", NULL});
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *path = g_build_filename(T.root, names[i], NULL);
        if (made[i])
            g_assert_no_errno(rmdir(path));
    }
    assert_alive();
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

/* ---- HTTP ---------------------------------------------------------------------------------------- */

static void assert_serving(void)
{
    Reply r = http_get(Port, "/metrics", NULL);
    g_assert_cmpint(r.status, ==, 200);
    g_assert_nonnull(strstr(r.body, "memctl_core_alive 1\n"));
    http_reply_clear(&r);
    assert_alive();
}

/*
 * HTTP from anyone who can reach /metrics: wrong paths and methods, garbage, a 256 KiB header, Accept
 * headers with empty parts, slow clients, one address holding its 8 connections, a client dripping
 * its request, and 1,000 connections: each refused or served, never in the way of the others.
 */
static void test_http(void)
{
    int port = Port;

    Reply r = http_get(port, "/nope", NULL);
    g_assert_cmpint(r.status, ==, 404);
    http_reply_clear(&r);
    const char post[] =
            "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
    r = http_raw(port, post, sizeof(post) - 1, 10000);
    g_assert_cmpint(r.status, ==, 405);
    g_assert_true(http_reply_has_header(&r, "Allow: GET, HEAD"));
    http_reply_clear(&r);
    const char garbage[] = "\x01\x02 NOT HTTP AT ALL\r\n\r\n";
    r = http_raw(port, garbage, sizeof(garbage) - 1, 10000);
    g_assert_cmpint(r.status, !=, 200);
    http_reply_clear(&r);
    /* a 256 KiB header: refused (431 or the connection closed), never served */
    g_autoptr(GString) huge = g_string_new("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ");
    for (int i = 0; i < 256 * 1024; i++)
        g_string_append_c(huge, 'a');
    g_string_append(huge, "\r\nConnection: close\r\n\r\n");
    r = http_raw(port, huge->str, huge->len, 10000);
    g_test_message("huge header: status %d", r.status);
    g_assert_cmpint(r.status, !=, 200);
    http_reply_clear(&r);
    assert_serving();

    /* Accept headers with empty ranges and parameters (memctld crashed on "a,,b") */
    static const char *const accepts[] = {"a,,b", ",", ";", ",,;;,", "application/openmetrics-text;;,,"};
    for (size_t i = 0; i < G_N_ELEMENTS(accepts); i++) {
        r = http_get(port, "/metrics", accepts[i]);
        g_assert_cmpint(r.status, ==, 200);
        http_reply_clear(&r);
    }
    assert_serving();

    /* slow clients from one address: half a request each, held open; others are served meanwhile,
     * and the server drops the slow ones after its idle timeout */
    int slow[8];
    for (int i = 0; i < 8; i++) {
        slow[i] = http_connect_from(port, "127.0.0.2");
        g_assert_cmpint(slow[i], >=, 0);
        g_assert_true(http_send_all(slow[i], "GET /metrics HTTP/1.1\r\nHost:", 29));
    }
    gint64 t0 = g_get_monotonic_time();
    assert_serving();
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 5 * G_USEC_PER_SEC);
    for (int i = 0; i < 8; i++) {
        g_autoptr(GString) rest = http_recv_all(slow[i], 30000); /* returns when the server closes */
        g_assert_false(g_str_has_prefix(rest->str, "HTTP/1.1 200"));
        close(slow[i]);
    }
    g_test_message("slow clients dropped after %.1f s", (g_get_monotonic_time() - t0) / 1e6);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 25 * G_USEC_PER_SEC);

    /* One address gets 8 connections, not all 64: held ones from 127.0.0.3, then more from there
     * are closed unanswered while 127.0.0.1 is still served. */
    int held[8];
    for (int i = 0; i < 8; i++) {
        held[i] = http_connect_from(port, "127.0.0.3");
        g_assert_cmpint(held[i], >=, 0);
    }
    g_usleep(300 * 1000); /* memctld accepted them */
    for (int i = 0; i < 4; i++) {
        int extra = http_connect_from(port, "127.0.0.3");
        g_assert_cmpint(extra, >=, 0); /* the kernel's backlog accepts; memctld closes it */
        g_assert_true(http_send_all(extra, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 34));
        g_autoptr(GString) got = http_recv_all(extra, 10000);
        g_assert_cmpuint(got->len, ==, 0);
        close(extra);
    }
    assert_serving();
    for (int i = 0; i < 8; i++)
        close(held[i]);

    /* A client that sends a byte of its request every 2 s (never idle for the 10 s timeout) is cut
     * at the request deadline, 15 s after it connected. */
    int drip = http_connect_from(port, "127.0.0.4");
    g_assert_cmpint(drip, >=, 0);
    const char req[] =
            "GET /metrics HTTP/1.1\r\nHost: slow.example\r\nX-Drip: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    t0 = g_get_monotonic_time();
    bool cut = false;
    for (size_t i = 0; i < sizeof(req) - 1 && !cut; i++) {
        if (!http_send_all(drip, req + i, 1))
            cut = true;
        struct pollfd p = {.fd = drip, .events = POLLIN};
        if (poll(&p, 1, 2000) > 0) {
            char c;
            cut = recv(drip, &c, 1, 0) <= 0;
        }
    }
    double dripped = (g_get_monotonic_time() - t0) / 1e6;
    g_test_message("a client dripping its request was cut after %.1f s", dripped);
    g_assert_true(cut);
    g_assert_cmpfloat(dripped, >=, 13);
    g_assert_cmpfloat(dripped, <, 25);
    close(drip);
    assert_serving();

    /* 1,000 connections beyond the limits, from four addresses, 250 held at a time: refused or
     * closed, and the daemon stays */
    static const char *const piles[] = {"127.0.0.5", "127.0.0.6", "127.0.0.7", "127.0.0.8"};
    int opened = 0;
    for (size_t a = 0; a < G_N_ELEMENTS(piles); a++) {
        int pile[250];
        for (int i = 0; i < 250; i++) {
            pile[i] = http_connect_from(port, piles[a]);
            opened += pile[i] >= 0;
        }
        for (int i = 0; i < 250; i++)
            if (pile[i] >= 0)
                close(pile[i]);
    }
    g_test_message("%d of 1000 connections accepted by the kernel", opened);
    g_usleep(200 * 1000);
    assert_serving();
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
    g_test_add_func("/hostile/bus-args", test_bus_args);
    g_test_add_func("/hostile/policy-files", test_policy_files);
    g_test_add_func("/hostile/state-file", test_state_file);
    g_test_add_func("/hostile/oci", test_oci);
    g_test_add_func("/hostile/cgroup-names", test_cgroup_names);
    g_test_add_func("/hostile/comm", test_comm);
    g_test_add_func("/hostile/http", test_http);
    g_test_add_func("/hostile/zz-still-kills", test_still_kills);
    int r = g_test_run();
    apitest_stop(&T);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", Dir);
    (void)!system(cmd);
    g_free(Dir);
    g_free(Before);
    return r;
}
