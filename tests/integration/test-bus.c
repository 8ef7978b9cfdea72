/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * org.memctl.Manager1 end to end on the real kernel and a private dbus-daemon that loads the
 * shipped bus policy: the introspection equals the contract, every verb of the memctl CLI, the
 * signals, bad input over the bus, and ReloadPolicy.
 */
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "include/memctl/memctl.h"
#include "policy/limits.h"
#include "tests/lib/bustest.h"
#include "tests/lib/cgtest.h"
#include "tests/lib/freezefs.h"

#define MiB ((uint64_t)1024 * 1024)

/* One interface of a node as GDBus prints it: a canonical form to compare. */
static char *interface_xml(const char *xml, const char *iface)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GDBusNodeInfo) node = g_dbus_node_info_new_for_xml(xml, &err);
    g_assert_no_error(err);
    GDBusInterfaceInfo *info = g_dbus_node_info_lookup_interface(node, iface);
    g_assert_nonnull(info);
    GString *s = g_string_new(NULL);
    g_dbus_interface_info_generate_xml(info, 0, s);
    return g_string_free(s, FALSE);
}

static char *introspect(BusTest *b, const char *path)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GVariant) r = g_dbus_connection_call_sync(
            b->conn, MEMCTL_BUS_NAME, path, "org.freedesktop.DBus.Introspectable", "Introspect", NULL,
            G_VARIANT_TYPE("(s)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &err);
    g_assert_no_error(err);
    char *xml;
    g_variant_get(r, "(s)", &xml);
    return xml;
}

static void test_introspection(void)
{
    ApiTest t;
    apitest_start(&t, "memctl-introspect", NULL);
    g_autofree char *contract_path =
            g_build_filename(g_getenv("MEMCTL_SOURCE_ROOT"), "dbus", "org.memctl.Manager1.xml", NULL);
    g_autofree char *contract = NULL;
    g_assert_true(g_file_get_contents(contract_path, &contract, NULL, NULL));

    g_autofree char *live = introspect(&t.bus, MEMCTL_MANAGER_PATH);
    g_autofree char *want_m = interface_xml(contract, MEMCTL_MANAGER_INTERFACE);
    g_autofree char *have_m = interface_xml(live, MEMCTL_MANAGER_INTERFACE);
    g_assert_cmpstr(have_m, ==, want_m);

    /* the manager's properties */
    g_autoptr(GError) err = NULL;
    g_autoptr(GVariant) all = g_dbus_connection_call_sync(
            t.bus.conn, MEMCTL_BUS_NAME, MEMCTL_MANAGER_PATH, "org.freedesktop.DBus.Properties", "GetAll",
            g_variant_new("(s)", MEMCTL_MANAGER_INTERFACE), G_VARIANT_TYPE("(a{sv})"), G_DBUS_CALL_FLAGS_NONE,
            -1, NULL, &err);
    g_assert_no_error(err);
    g_autoptr(GVariant) props = g_variant_get_child_value(all, 0);
    const char *version = NULL, *root = NULL;
    g_assert_true(g_variant_lookup(props, "Version", "&s", &version));
    g_assert_cmpstr(version, ==, MEMCTL_VERSION);
    g_assert_true(g_variant_lookup(props, "ManagedRoot", "&s", &root));
    g_assert_cmpstr(root, ==, t.root);

    const char *out_args[] = {"create", "web", NULL};
    g_assert_cmpint(bustest_cli(&t.bus, out_args, NULL, NULL), ==, 0);
    g_autofree char *glive = introspect(&t.bus, MEMCTL_GROUP_PATH_PREFIX "web");
    g_autofree char *want_g = interface_xml(contract, MEMCTL_GROUP_INTERFACE);
    g_autofree char *have_g = interface_xml(glive, MEMCTL_GROUP_INTERFACE);
    g_assert_cmpstr(have_g, ==, want_g);
    apitest_stop(&t);
}

static json_object *parse_json(const char *text)
{
    json_object *o = json_tokener_parse(text);
    if (!o)
        g_error("not JSON: %s", text);
    return o;
}

static uint64_t json_u64(json_object *o, const char *key)
{
    json_object *v;
    g_assert_true(json_object_object_get_ex(o, key, &v));
    return json_object_get_uint64(v);
}

static const char *json_str(json_object *o, const char *key)
{
    json_object *v;
    g_assert_true(json_object_object_get_ex(o, key, &v));
    return json_object_get_string(v);
}

/* Runs the CLI and asserts its exit code; returns stdout. */

/* A child reaped by its own thread: the cgroup of a killed child empties only once it is reaped. */
typedef struct {
    GPid pid;
    int status;
    gint done;
    GThread *reaper;
} Child;

static gpointer reaper(gpointer data)
{
    Child *c = data;
    int status = 0;
    while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
        ;
    c->status = status;
    g_atomic_int_set(&c->done, 1);
    return NULL;
}

static void spawn_sleeper(Child *c)
{
    const char *argv[] = {"sleep", "1000", NULL};
    g_autoptr(GError) err = NULL;
    memset(c, 0, sizeof(*c));
    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                                NULL, NULL, &c->pid, &err));
    c->reaper = g_thread_new("reaper", reaper, c);
}

/* Waits for the child's end; returns its wait status, or -1 after timeout_ms. */
static int reap(Child *c, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (!g_atomic_int_get(&c->done)) {
        if (g_get_monotonic_time() > deadline)
            return -1;
        g_usleep(5000);
    }
    g_thread_join(c->reaper);
    return c->status;
}

typedef struct {
    bool changed, removed;
    char *changed_keys;
    char *removed_name;
} Signals;

static void on_props(GDBusConnection *c, const char *sender, const char *path, const char *iface,
                     const char *signal, GVariant *params, gpointer user_data)
{
    Signals *s = user_data;
    g_autoptr(GVariant) changed = g_variant_get_child_value(params, 1);
    GString *keys = g_string_new(NULL);
    GVariantIter it;
    const char *k;
    g_variant_iter_init(&it, changed);
    while (g_variant_iter_next(&it, "{&sv}", &k, NULL))
        g_string_append_printf(keys, "%s ", k);
    g_free(s->changed_keys);
    s->changed_keys = g_string_free(keys, FALSE);
    s->changed = true;
}

static void on_removed(GDBusConnection *c, const char *sender, const char *path, const char *iface,
                       const char *signal, GVariant *params, gpointer user_data)
{
    Signals *s = user_data;
    g_free(s->removed_name);
    g_variant_get(params, "(so)", &s->removed_name, NULL);
    s->removed = true;
}

static void test_cli_lifecycle(void)
{
    ApiTest t;
    apitest_start(&t, "memctl-cli", NULL);
    g_autofree char *web = g_build_filename(t.root, "web", NULL);

    /* create: the files are written, and again is idempotent */
    g_free(apitest_cli(&t, 0, (const char *[]){"create", "web", "--limit", "256M", "--min", "16M", NULL}));
    g_assert_cmpuint(cgtest_read_u64(web, "memory.max"), ==, 256 * MiB);
    /* the kernel rounds to pages */
    uint64_t want_high = 256 * MiB - memctl_limits_default_headroom(256 * MiB);
    g_assert_cmpuint(cgtest_read_u64(web, "memory.high"), ==, want_high / 4096 * 4096);
    g_assert_cmpuint(cgtest_read_u64(web, "memory.min"), ==, 16 * MiB);
    g_autofree char *again =
            apitest_cli(&t, 0, (const char *[]){"--json", "create", "web", "--limit", "256M", NULL});
    json_object *created = parse_json(again);
    g_assert_cmpstr(json_str(created, "object_path"), ==, MEMCTL_GROUP_PATH_PREFIX "web");
    json_object_put(created);

    /* show --json has every property */
    g_autofree char *show = apitest_cli(&t, 0, (const char *[]){"show", "web", "--json", NULL});
    json_object *p = parse_json(show);
    g_assert_cmpuint(json_u64(p, "MemoryMax"), ==, 256 * MiB);
    g_assert_cmpuint(json_u64(p, "MemoryMin"), ==, 16 * MiB);
    g_assert_cmpstr(json_str(p, "CgroupPath"), ==, web);
    g_assert_cmpuint(json_u64(p, "Priority"), ==, MEMCTL_PRIORITY_DEFAULT);
    static const char *const props[] = {
            "MemoryCurrent",  "MemoryPeak",   "MemoryLow",    "MemoryHigh", "SwapMax", "OOMGroup",  "Kills",
            "KernelOOMKills", "PressureSome", "PressureFull", "Critical",   "Name",    "ObjectPath"};
    for (size_t i = 0; i < G_N_ELEMENTS(props); i++)
        g_assert_true(json_object_object_get_ex(p, props[i], NULL));
    json_object_put(p);

    /* set: PropertiesChanged names what changed; a rejected set changes nothing */
    Signals sig = {0};
    guint sub1 = g_dbus_connection_signal_subscribe(
            t.bus.conn, MEMCTL_BUS_NAME, "org.freedesktop.DBus.Properties", "PropertiesChanged",
            MEMCTL_GROUP_PATH_PREFIX "web", NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_props, &sig, NULL);
    guint sub2 = g_dbus_connection_signal_subscribe(t.bus.conn, MEMCTL_BUS_NAME, MEMCTL_MANAGER_INTERFACE,
                                                    "GroupRemoved", MEMCTL_MANAGER_PATH, NULL,
                                                    G_DBUS_SIGNAL_FLAGS_NONE, on_removed, &sig, NULL);
    g_free(apitest_cli(&t, 0, (const char *[]){"set", "web", "limit=128M", "priority=10", NULL}));
    g_assert_cmpuint(cgtest_read_u64(web, "memory.max"), ==, 128 * MiB);
    g_assert_true(bustest_wait_flag(&sig.changed, 5000));
    g_assert_nonnull(strstr(sig.changed_keys, "MemoryMax"));
    g_assert_nonnull(strstr(sig.changed_keys, "MemoryHigh"));
    g_assert_nonnull(strstr(sig.changed_keys, "Priority"));
    g_assert_null(strstr(sig.changed_keys, "MemoryMin"));
    g_autofree char *e1 = apitest_cli_err(&t, 2, (const char *[]){"set", "web", "min=1G", NULL});
    g_assert_nonnull(strstr(e1, "min"));
    g_autofree char *e2 = apitest_cli_err(&t, 2, (const char *[]){"set", "web", "bogus=1", NULL});
    g_assert_nonnull(strstr(e2, "bogus"));
    g_autofree char *e3 = apitest_cli_err(&t, 2, (const char *[]){"set", "web", "limit", NULL});
    g_assert_cmpuint(cgtest_read_u64(web, "memory.max"), ==, 128 * MiB);
    g_assert_cmpuint(cgtest_read_u64(web, "memory.min"), ==, 16 * MiB);
    g_free(apitest_cli(&t, 0, (const char *[]){"set", "web", "memory.swap.max=0", NULL}));
    g_assert_cmpuint(cgtest_read_u64(web, "memory.swap.max"), ==, 0);

    /* list, human and JSON */
    g_autofree char *list = apitest_cli(&t, 0, (const char *[]){"list", NULL});
    g_assert_nonnull(strstr(list, "GROUP"));
    g_assert_nonnull(strstr(list, "128.0M"));
    g_assert_nonnull(strstr(list, "1 group(s) listed."));
    g_autofree char *bare = apitest_cli(&t, 0, (const char *[]){"list", "--no-legend", NULL});
    g_assert_null(strstr(bare, "GROUP"));
    g_assert_true(g_str_has_prefix(bare, "web "));
    g_autofree char *lj = apitest_cli(&t, 0, (const char *[]){"list", "--json", NULL});
    json_object *arr = parse_json(lj);
    g_assert_cmpuint(json_object_array_length(arr), ==, 1);
    g_assert_cmpstr(json_str(json_object_array_get_idx(arr, 0), "name"), ==, "web");
    g_assert_cmpuint(json_u64(json_object_array_get_idx(arr, 0), "max"), ==, 128 * MiB);
    json_object_put(arr);

    /* attach, then kill --one: the kill is recorded with the caller's reason */
    Child sleeper;
    spawn_sleeper(&sleeper);
    g_autofree char *spid = g_strdup_printf("%d", sleeper.pid);
    g_free(apitest_cli(&t, 0, (const char *[]){"attach", "web", spid, NULL}));
    g_autofree char *procs = cgtest_read(web, "cgroup.procs");
    g_assert_nonnull(strstr(procs, spid));
    g_free(apitest_cli(&t, 0, (const char *[]){"kill", "web", "--one", "--reason", "cli test", NULL}));
    int st = reap(&sleeper, 5000);
    g_assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    g_autofree char *kj = apitest_cli(&t, 0, (const char *[]){"kills", "--json", NULL});
    json_object *kills = parse_json(kj);
    g_assert_cmpuint(json_object_array_length(kills), ==, 1);
    json_object *k0 = json_object_array_get_idx(kills, 0);
    g_assert_cmpstr(json_str(k0, "group"), ==, "web");
    g_assert_cmpstr(json_str(k0, "reason"), ==, "manual");
    g_assert_cmpstr(json_str(k0, "message"), ==, "cli test");
    g_assert_cmpstr(json_str(k0, "comm"), ==, "sleep");
    g_assert_cmpuint(json_u64(k0, "pid"), ==, (uint64_t)sleeper.pid);
    json_object_put(kills);
    g_autofree char *kh = apitest_cli(&t, 0, (const char *[]){"kills", NULL});
    g_assert_nonnull(strstr(kh, "manual"));
    g_assert_nonnull(strstr(kh, "1 kill(s) listed."));
    g_autofree char *empty_kill = apitest_cli_err(&t, 1, (const char *[]){"kill", "web", NULL});
    g_assert_nonnull(strstr(empty_kill, "no processes"));

    /* status and top */
    g_autofree char *status = apitest_cli(&t, 0, (const char *[]){"status", NULL});
    g_assert_nonnull(strstr(status, t.root));
    g_assert_nonnull(strstr(status, "Core: alive"));
    g_assert_true(g_regex_match_simple(
            "Host memory: \\[[#.]{20}\\] +[0-9]+% used, [0-9.]+[BKMGT] available of ", status, 0, 0));
    g_assert_true(g_regex_match_simple("\nweb +[0-9.]+[BKMGT] +([0-9.]+[BKMGT]|host) \\[[#.]{20}\\] +[0-9]+%",
                                       status, 0, 0));
    g_autofree char *sj = apitest_cli(&t, 0, (const char *[]){"status", "--json", NULL});
    /* PSI percentages as the kernel gives them (two decimals), not as binary floats print */
    g_assert_true(g_regex_match_simple("\"pressure_some\":[0-9]+\\.[0-9]{1,2}[,}]", sj, 0, 0));
    json_object *so = parse_json(sj);
    g_assert_cmpuint(json_u64(so, "kills"), ==, 1);
    g_assert_cmpuint(json_u64(so, "groups"), ==, 1);
    json_object_put(so);
    g_autofree char *top = apitest_cli(&t, 0, (const char *[]){"top", "-n", "2", "-d", "0.1", NULL});
    g_assert_nonnull(strstr(top, "memctl top"));
    g_assert_nonnull(strstr(top, "web"));

    /* remove: refused while populated, then with --kill; final counters; GroupRemoved */
    Child s2;
    spawn_sleeper(&s2);
    g_autofree char *s2pid = g_strdup_printf("%d", s2.pid);
    g_free(apitest_cli(&t, 0, (const char *[]){"attach", "web", s2pid, NULL}));
    g_autofree char *busy = apitest_cli_err(&t, 1, (const char *[]){"remove", "web", NULL});
    g_assert_nonnull(strstr(busy, "still has processes"));
    g_assert_true(g_file_test(web, G_FILE_TEST_IS_DIR));
    uint64_t peak = cgtest_read_u64(web, "memory.peak");
    uint64_t high_events = cgtest_read_key(web, "memory.events", "high");
    g_autofree char *rm = apitest_cli(&t, 0, (const char *[]){"remove", "web", "--kill", "--json", NULL});
    json_object *fin = parse_json(rm);
    g_assert_cmpuint(json_u64(fin, "kills"), ==, 1);
    g_assert_cmpuint(json_u64(fin, "peak"), ==, peak); /* read before the cgroup went */
    g_assert_cmpuint(json_u64(fin, "high"), ==, high_events);
    json_object_put(fin);
    st = reap(&s2, 5000);
    g_assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    g_assert_false(g_file_test(web, G_FILE_TEST_EXISTS));
    g_assert_true(bustest_wait_flag(&sig.removed, 5000));
    g_assert_cmpstr(sig.removed_name, ==, "web");

    /* gone: exit code 4 like systemctl's "no such unit" */
    g_autofree char *nosuch = apitest_cli_err(&t, 4, (const char *[]){"show", "web", NULL});
    g_assert_nonnull(strstr(nosuch, "no group 'web'"));
    g_free(apitest_cli_err(&t, 4, (const char *[]){"remove", "web", NULL}));

    g_dbus_connection_signal_unsubscribe(t.bus.conn, sub1);
    g_dbus_connection_signal_unsubscribe(t.bus.conn, sub2);
    g_free(sig.changed_keys);
    g_free(sig.removed_name);
    apitest_stop(&t);
}

/* A call that must fail with the named error whose message contains `needle`. */
static void expect_error(ApiTest *t, const char *method, GVariant *params, const char *name,
                         const char *needle)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GVariant) r = bustest_call(&t->bus, method, params, &err);
    g_assert_null(r);
    g_autofree char *remote = g_dbus_error_get_remote_error(err);
    if (g_strcmp0(remote, name) != 0 || (needle && !strstr(err->message, needle)))
        g_error("%s: got %s (%s), expected %s containing '%s'", method, remote, err->message, name,
                needle ? needle : "");
}

static GVariant *limits1(const char *key, GVariant *value)
{
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
    g_variant_builder_add(&b, "{sv}", key, value);
    return g_variant_builder_end(&b);
}

static void test_bad_input(void)
{
    ApiTest t;
    apitest_start(&t, "memctl-badbus", NULL);
    const char *inval = MEMCTL_DBUS_ERROR_INVALID_ARGUMENT;

    /* wrong types never reach memctld's code */
    expect_error(&t, "CreateGroup", g_variant_new("(ii)", 1, 2), "org.freedesktop.DBus.Error.InvalidArgs",
                 NULL);
    expect_error(&t, "RemoveGroup", g_variant_new("(s)", "x"), "org.freedesktop.DBus.Error.InvalidArgs",
                 NULL);

    /* the limits dictionary: every error names the key */
    expect_error(&t, "CreateGroup",
                 g_variant_new("(s@a{sv})", "a", limits1("bogus", g_variant_new_string("1"))), inval,
                 "bogus");
    expect_error(&t, "CreateGroup",
                 g_variant_new("(s@a{sv})", "a", limits1("limit", g_variant_new_string("99999999999T"))),
                 inval, "limit");
    expect_error(&t, "CreateGroup",
                 g_variant_new("(s@a{sv})", "a", limits1("limit", g_variant_new_string("-1"))), inval,
                 "limit");
    expect_error(&t, "CreateGroup",
                 g_variant_new("(s@a{sv})", "a", limits1("limit", g_variant_new("(ii)", 1, 2))), inval,
                 "limit");
    expect_error(&t, "CreateGroup",
                 g_variant_new("(s@a{sv})", "a", limits1("oom_group", g_variant_new_int32(5))), inval,
                 "oom_group");
    expect_error(&t, "CreateGroup",
                 g_variant_new("(s@a{sv})", "a", limits1("priority", g_variant_new_uint32(1000))), inval,
                 "priority");
    GVariantBuilder u;
    g_variant_builder_init(&u, G_VARIANT_TYPE("a{ss}"));
    g_variant_builder_add(&u, "{ss}", "memory.max", "64M");
    g_variant_builder_add(&u, "{ss}", "cpu.max", "100000");
    expect_error(&t, "CreateGroup",
                 g_variant_new("(s@a{sv})", "a", limits1("unified", g_variant_builder_end(&u))), inval,
                 "cpu.max");
    GVariantBuilder two;
    g_variant_builder_init(&two, G_VARIANT_TYPE("a{sv}"));
    g_variant_builder_add(&two, "{sv}", "min", g_variant_new_string("2G"));
    g_variant_builder_add(&two, "{sv}", "max", g_variant_new_string("1G"));
    expect_error(&t, "CreateGroup", g_variant_new("(s@a{sv})", "a", g_variant_builder_end(&two)), inval, "'");

    /* names: path escapes, reserved, empty, control characters, too long */
    g_autofree char *longname = g_strnfill(300, 'x');
    const char *names[] = {"../etc", "a/../../b", "/abs", "..", "memctld", "", "a\nb", "a//b", longname};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        expect_error(&t, "CreateGroup",
                     g_variant_new("(s@a{sv})", names[i], limits1("min", g_variant_new_uint64(0))), inval,
                     "name");
        expect_error(&t, "GetGroup", g_variant_new("(s)", names[i]), inval, "name");
    }
    g_autofree char *escaped = g_build_filename(cgtest_mount(), "etc", NULL);
    g_assert_false(g_file_test(escaped, G_FILE_TEST_EXISTS));
    expect_error(&t, "GetGroup", g_variant_new("(s)", "nosuch"), MEMCTL_DBUS_ERROR_NO_SUCH_GROUP, "nosuch");

    /* a group for the per-group calls */
    g_autoptr(GError) err = NULL;
    g_autoptr(GVariant) ok = bustest_call(
            &t.bus, "CreateGroup",
            g_variant_new("(s@a{sv})", "g", limits1("limit", g_variant_new_uint64(64 * MiB))), &err);
    g_assert_no_error(err);
    expect_error(&t, "SetLimits", g_variant_new("(s@a{sv})", "g", limits1("limit", g_variant_new_uint64(0))),
                 inval, "limit");
    g_autofree char *g = g_build_filename(t.root, "g", NULL);
    g_assert_cmpuint(cgtest_read_u64(g, "memory.max"), ==, 64 * MiB);
    expect_error(&t, "SetLimits",
                 g_variant_new("(s@a{sv})", "g", g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)), inval,
                 "limits");
    /* UINT64_MAX is "max" (the contract; what Group1.MemoryMax reads for no limit): a value read back
     * goes back in */
    g_autoptr(GVariant) u_made =
            bustest_call(&t.bus, "CreateGroup",
                         g_variant_new("(s@a{sv})", "u", limits1("swap_max", g_variant_new_uint64(0))), &err);
    g_assert_no_error(err);
    g_autoptr(GVariant) u_max = bustest_call(
            &t.bus, "SetLimits",
            g_variant_new("(s@a{sv})", "u", limits1("max", g_variant_new_uint64(G_MAXUINT64))), &err);
    g_assert_no_error(err);
    g_autofree char *ud = g_build_filename(t.root, "u", NULL);
    g_assert_cmpuint(cgtest_read_u64(ud, "memory.max"), ==, G_MAXUINT64);
    g_autoptr(GVariant) u_gone =
            bustest_call(&t.bus, "RemoveGroup", g_variant_new("(st)", "u", (guint64)0), &err);
    g_assert_no_error(err);
    expect_error(&t, "SetLimits",
                 g_variant_new("(s@a{sv})", "g", limits1("limit", g_variant_new_uint64(G_MAXUINT64))), inval,
                 "limit");
    g_assert_cmpuint(cgtest_read_u64(g, "memory.max"), ==, 64 * MiB);

    /* a million pids, pid 0, a pid that does not exist, memctld itself */
    guint32 *million = g_new0(guint32, 1000000);
    for (guint i = 0; i < 1000000; i++)
        million[i] = i + 1;
    expect_error(&t, "AttachProcesses",
                 g_variant_new(
                         "(s@au)", "g",
                         g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, million, 1000000, sizeof(guint32))),
                 inval, "pids");
    g_free(million);
    guint32 zero = 0, ghost = 0x7ffffff0, self = (guint32)t.d.pid;
    expect_error(&t, "AttachProcesses",
                 g_variant_new("(s@au)", "g", g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, &zero, 1, 4)),
                 inval, "pids[0]");
    expect_error(&t, "AttachProcesses",
                 g_variant_new("(s@au)", "g", g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, &ghost, 1, 4)),
                 inval, "pids[0]");
    expect_error(&t, "AttachProcesses",
                 g_variant_new("(s@au)", "g", g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, &self, 1, 4)),
                 inval, "memctld");
    /* memctld by one of its threads' ids (the core's: a thread moves its whole process), PID 1 and a
     * kernel thread (kthreadd, PID 2): each refused by name, and memctld stays in its leaf */
    g_autofree char *cgroup_before = NULL, *cgroup_path = g_strdup_printf("/proc/%d/cgroup", (int)t.d.pid);
    g_assert_true(g_file_get_contents(cgroup_path, &cgroup_before, NULL, NULL));
    guint32 core_tid = 0;
    g_autofree char *tasks = g_strdup_printf("/proc/%d/task", (int)t.d.pid);
    g_autoptr(GDir) td = g_dir_open(tasks, 0, NULL);
    for (const char *e; td && (e = g_dir_read_name(td));) {
        g_autofree char *comm_path = g_build_filename(tasks, e, "comm", NULL);
        g_autofree char *comm = NULL;
        if (g_file_get_contents(comm_path, &comm, NULL, NULL) && g_str_has_prefix(comm, "memctl-core"))
            core_tid = (guint32)atoi(e);
    }
    g_assert_cmpuint(core_tid, >, 0);
    g_assert_cmpuint(core_tid, !=, self);
    guint32 init = 1, kthreadd = 2;
    expect_error(
            &t, "AttachProcesses",
            g_variant_new("(s@au)", "g", g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, &core_tid, 1, 4)),
            inval, "is memctld itself");
    expect_error(&t, "AttachProcesses",
                 g_variant_new("(s@au)", "g", g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, &init, 1, 4)),
                 inval, "init process");
    expect_error(
            &t, "AttachProcesses",
            g_variant_new("(s@au)", "g", g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, &kthreadd, 1, 4)),
            inval, "kernel thread");
    g_autofree char *cgroup_after = NULL;
    g_assert_true(g_file_get_contents(cgroup_path, &cgroup_after, NULL, NULL));
    g_assert_cmpstr(cgroup_after, ==, cgroup_before);
    expect_error(&t, "RemoveGroup", g_variant_new("(st)", "g", (guint64)0x10), inval, "flags");
    expect_error(&t, "KillGroup", g_variant_new("(sst)", "g", "x", (guint64)4), inval, "flags");
    expect_error(&t, "KillGroup", g_variant_new("(sst)", "g", "bell\a", (guint64)0), inval, "reason");
    g_autofree char *long_reason = g_strnfill(300, 'r');
    expect_error(&t, "KillGroup", g_variant_new("(sst)", "g", long_reason, (guint64)0), inval, "reason");

    /* still serving, nothing else created, the daemon alive */
    g_autoptr(GVariant) st = bustest_call(&t.bus, "GetStatus", NULL, &err);
    g_assert_no_error(err);
    g_autoptr(GVariant) dict = g_variant_get_child_value(st, 0);
    guint32 groups = 0;
    g_assert_true(g_variant_lookup(dict, "groups", "u", &groups));
    g_assert_cmpuint(groups, ==, 1);
    g_assert_cmpint(kill(t.d.pid, 0), ==, 0);
    apitest_stop(&t);
}

static void test_reload(void)
{
    ApiTest t;
    apitest_start(&t, "memctl-reload", NULL);
    Signals sig = {0};
    guint sub = g_dbus_connection_signal_subscribe(t.bus.conn, MEMCTL_BUS_NAME, MEMCTL_MANAGER_INTERFACE,
                                                   "GroupRemoved", MEMCTL_MANAGER_PATH, NULL,
                                                   G_DBUS_SIGNAL_FLAGS_NONE, on_removed, &sig, NULL);
    /* made behind memctld's back: adopted on reload, with its limit read back */
    g_autofree char *ext = cgtest_mkdir(t.root, "ext");
    g_assert_cmpint(cgtest_write(ext, "memory.max", "100663296"), ==, 0);
    g_free(apitest_cli_err(&t, 4, (const char *[]){"show", "ext", NULL}));
    g_free(apitest_cli(&t, 0, (const char *[]){"reload", NULL}));
    g_autofree char *show = apitest_cli(&t, 0, (const char *[]){"show", "ext", "--json", NULL});
    json_object *p = parse_json(show);
    g_assert_cmpuint(json_u64(p, "MemoryMax"), ==, 96 * MiB);
    json_object_put(p);
    /* a limit changed behind its back is read back too */
    g_assert_cmpint(cgtest_write(ext, "memory.max", "50331648"), ==, 0);
    g_free(apitest_cli(&t, 0, (const char *[]){"reload", NULL}));
    g_autofree char *show2 = apitest_cli(&t, 0, (const char *[]){"show", "ext", "--json", NULL});
    p = parse_json(show2);
    g_assert_cmpuint(json_u64(p, "MemoryMax"), ==, 48 * MiB);
    json_object_put(p);
    /* removed behind its back: dropped on reload, GroupRemoved sent */
    g_assert_no_errno(rmdir(ext));
    g_free(apitest_cli(&t, 0, (const char *[]){"reload", NULL}));
    g_assert_true(bustest_wait_flag(&sig.removed, 5000));
    g_assert_cmpstr(sig.removed_name, ==, "ext");
    g_free(apitest_cli_err(&t, 4, (const char *[]){"show", "ext", NULL}));
    g_dbus_connection_signal_unsubscribe(t.bus.conn, sub);
    g_free(sig.removed_name);
    apitest_stop(&t);
}

/*
 * Cgroups the core cannot watch (all --max-groups slots in use; a child whose parent does not pass
 * the memory controller down, so it has no memory.* files) are not managed: memctld starts anyway,
 * says which and why, and no call on them can reach another group's slot. A CreateGroup refused at
 * that step leaves no cgroup behind, and an existing one gets its values back.
 */
static void test_unwatchable(void)
{
    g_autofree char *root = apitest_root_path("memctl-unwatch");
    cgtest_remove_tree(root);
    g_assert_no_errno(mkdir(root, 0755));
    g_assert_cmpint(cgtest_write(root, "cgroup.subtree_control", "+memory"), ==, 0);
    const char *names[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++)
        g_free(cgtest_mkdir(root, names[i]));
    g_autofree char *a = g_build_filename(root, "a", NULL);
    g_free(cgtest_mkdir(a, "inner")); /* a passes no controller down: inner has no memory.* files */
    g_autofree char *inner_max = g_build_filename(a, "inner", "memory.max", NULL);
    g_assert_false(g_file_test(inner_max, G_FILE_TEST_EXISTS));

    ApiTest t;
    const char *args[] = {"--max-groups=2", NULL};
    apitest_start_root(&t, root, args);
    g_autoptr(GError) err = NULL;
    g_autoptr(GVariant) list = bustest_call(&t.bus, "ListGroups", NULL, &err);
    g_assert_no_error(err);
    g_autoptr(GVariant) arr = g_variant_get_child_value(list, 0);
    g_assert_cmpuint(g_variant_n_children(arr), ==, 2);
    const char *managed[2] = {NULL, NULL}, *left = NULL;
    for (gsize i = 0; i < 2; i++)
        g_variant_get_child(arr, i, "(&sostttttd)", &managed[i], NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                            NULL);
    for (int i = 0; i < 3; i++)
        if (g_strcmp0(managed[0], names[i]) != 0 && g_strcmp0(managed[1], names[i]) != 0)
            left = names[i];
    g_assert_nonnull(left);
    g_autofree char *log = NULL;
    g_assert_true(g_file_get_contents(t.d.log, &log, NULL, NULL));
    g_assert_nonnull(strstr(log, "all group slots are in use"));

    /* the one left out is no group: nothing acts on a slot in its name */
    g_autofree char *left_dir = g_build_filename(root, left, NULL);
    g_autofree char *m0 = g_build_filename(root, managed[0], NULL);
    g_autofree char *m1 = g_build_filename(root, managed[1], NULL);
    expect_error(&t, "SetLimits",
                 g_variant_new("(s@a{sv})", left, limits1("limit", g_variant_new_string("32M"))),
                 MEMCTL_DBUS_ERROR_NO_SUCH_GROUP, NULL);
    expect_error(&t, "KillGroup", g_variant_new("(sst)", left, "", (guint64)0),
                 MEMCTL_DBUS_ERROR_NO_SUCH_GROUP, NULL);
    expect_error(&t, "RemoveGroup", g_variant_new("(st)", left, (guint64)0), MEMCTL_DBUS_ERROR_NO_SUCH_GROUP,
                 NULL);
    g_assert_true(g_file_test(left_dir, G_FILE_TEST_IS_DIR));
    g_assert_cmpuint(cgtest_read_u64(m0, "memory.max"), ==, G_MAXUINT64);
    g_assert_cmpuint(cgtest_read_u64(m1, "memory.max"), ==, G_MAXUINT64);

    /* CreateGroup with no slot left: refused, the new cgroup is not left behind, the existing one
     * keeps its values */
    expect_error(&t, "CreateGroup",
                 g_variant_new("(s@a{sv})", "d", limits1("limit", g_variant_new_string("32M"))),
                 MEMCTL_DBUS_ERROR_BUSY, "all group slots are in use");
    g_autofree char *d = g_build_filename(root, "d", NULL);
    g_assert_false(g_file_test(d, G_FILE_TEST_EXISTS));
    expect_error(&t, "CreateGroup",
                 g_variant_new("(s@a{sv})", left, limits1("limit", g_variant_new_string("32M"))),
                 MEMCTL_DBUS_ERROR_BUSY, "all group slots are in use");
    g_assert_cmpuint(cgtest_read_u64(left_dir, "memory.max"), ==, G_MAXUINT64);

    /* a reload says what it could not adopt, and memctld keeps serving */
    g_autofree char *out = apitest_cli(&t, 0, (const char *[]){"reload", NULL});
    g_assert_nonnull(strstr(out, "not adopted"));
    g_free(apitest_cli(&t, 0, (const char *[]){"status", NULL}));
    apitest_stop(&t);
}

typedef struct {
    bool done;
    GVariant *reply;
    GError *error;
} Async;

static void on_async(GObject *src, GAsyncResult *res, gpointer data)
{
    Async *a = data;
    a->reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &a->error);
    a->done = true;
}

static void call_async(ApiTest *t, const char *method, GVariant *params, Async *a)
{
    *a = (Async){0};
    g_dbus_connection_call(t->bus.conn, MEMCTL_BUS_NAME, MEMCTL_MANAGER_PATH, MEMCTL_MANAGER_INTERFACE,
                           method, params, NULL, G_DBUS_CALL_FLAGS_NONE, 30000, NULL, on_async, a);
}

static void async_clear(Async *a)
{
    if (a->reply)
        g_variant_unref(a->reply);
    g_clear_error(&a->error);
}

/*
 * RemoveGroup with the kill flag waits for the group to empty on the main loop, not in it: while a
 * group whose process cannot die is being removed, memctld answers other calls at once; the removal
 * gives up after 5 s with the group still managed; a second removal meanwhile is Busy. The kill spares
 * no one but a registered critical process (refused, naming it) and takes oom_score_adj -1000 ones.
 */
static void test_remove_kill(void)
{
    FreezableFs fs;
    if (!freezable_fs_setup(&fs)) {
        freezable_fs_teardown(&fs);
        return;
    }
    ApiTest t;
    apitest_start(&t, "memctl-removekill", NULL);
    g_autoptr(GError) err = NULL;
    const char *groups[] = {"stuck", "keep", "crit"};
    for (int i = 0; i < 3; i++) {
        g_autoptr(GVariant) r = bustest_call(
                &t.bus, "CreateGroup",
                g_variant_new("(s@a{sv})", groups[i], limits1("limit", g_variant_new_string("64M"))), &err);
        g_assert_no_error(err);
    }
    g_autofree char *stuck_dir = g_build_filename(t.root, "stuck", NULL);
    g_autofree char *keep_dir = g_build_filename(t.root, "keep", NULL);
    g_autofree char *crit_dir = g_build_filename(t.root, "crit", NULL);

    freezable_fs_freeze(&fs, true);
    Hog stuck;
    hog_start(&stuck, (const char *[]){"--cgroup", stuck_dir, "--total", "4M", "--block-on", fs.file, NULL});
    g_assert_true(hog_wait_line(&stuck, "blocking", 30000));
    g_assert_true(freezable_fs_wait_stuck((int)stuck.pid, 5000));

    Async rm;
    gint64 t0 = g_get_monotonic_time();
    call_async(&t, "RemoveGroup", g_variant_new("(st)", "stuck", (guint64)1), &rm);
    gint64 slowest = 0;
    guint answered = 0;
    while (!rm.done && g_get_monotonic_time() - t0 < 20 * G_USEC_PER_SEC) {
        gint64 c0 = g_get_monotonic_time();
        g_autoptr(GVariant) st = bustest_call(&t.bus, "GetStatus", NULL, &err);
        g_assert_no_error(err);
        slowest = MAX(slowest, g_get_monotonic_time() - c0);
        answered++;
        if (answered == 2)
            expect_error(&t, "RemoveGroup", g_variant_new("(st)", "stuck", (guint64)1),
                         MEMCTL_DBUS_ERROR_BUSY, "removal is in progress");
        while (g_main_context_iteration(NULL, FALSE))
            ;
        g_usleep(100 * 1000);
    }
    double took = (g_get_monotonic_time() - t0) / 1e6;
    g_test_message(
            "removal of a stuck group gave up after %.1f s; %u calls answered meanwhile, slowest %.0f ms",
            took, answered, slowest / 1e3);
    g_assert_true(rm.done);
    g_assert_null(rm.reply);
    g_autofree char *remote = g_dbus_error_get_remote_error(rm.error);
    g_assert_cmpstr(remote, ==, MEMCTL_DBUS_ERROR_BUSY);
    g_assert_nonnull(strstr(rm.error->message, "did not exit within 5 s"));
    g_assert_cmpfloat(took, >=, 4.5);
    g_assert_cmpuint(answered, >=, 10);
    g_assert_cmpint(slowest, <, G_USEC_PER_SEC);
    async_clear(&rm);
    g_autoptr(GVariant) still = bustest_call(&t.bus, "GetGroup", g_variant_new("(s)", "stuck"), &err);
    g_assert_no_error(err);
    /* thawed, the process dies of the kill it got: the removal goes through */
    freezable_fs_freeze(&fs, false);
    g_assert_true(WIFSIGNALED(hog_wait(&stuck, 30000)));
    g_autoptr(GVariant) gone =
            bustest_call(&t.bus, "RemoveGroup", g_variant_new("(st)", "stuck", (guint64)1), &err);
    g_assert_no_error(err);
    g_assert_false(g_file_test(stuck_dir, G_FILE_TEST_EXISTS));

    /* an oom_score_adj -1000 process goes with its group: this is no OOM kill */
    Hog keep;
    hog_start(&keep, (const char *[]){"--cgroup", keep_dir, "--total", "4M", "--hold", "--oom-score-adj",
                                      "-1000", NULL});
    g_assert_true(hog_wait_line(&keep, "grown", 30000));
    g_autoptr(GVariant) kept =
            bustest_call(&t.bus, "RemoveGroup", g_variant_new("(st)", "keep", (guint64)1), &err);
    g_assert_no_error(err);
    int st = hog_wait(&keep, 10000);
    g_assert_true(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    g_assert_false(g_file_test(keep_dir, G_FILE_TEST_EXISTS));

    /* a registered critical process in the group: refused, naming it, and nothing killed */
    Hog crit;
    hog_start(&crit, (const char *[]){"--cgroup", crit_dir, "--total", "4M", "--hold", NULL});
    g_assert_true(hog_wait_line(&crit, "grown", 30000));
    g_autoptr(GVariant) reg = bustest_call(&t.bus, "RegisterCritical",
                                           g_variant_new("(sut)", "", (guint32)crit.pid, (guint64)0), &err);
    g_assert_no_error(err);
    g_autofree char *pid_text = g_strdup_printf("pid %d", (int)crit.pid);
    expect_error(&t, "RemoveGroup", g_variant_new("(st)", "crit", (guint64)1), MEMCTL_DBUS_ERROR_BUSY,
                 pid_text);
    g_usleep(300 * 1000);
    g_assert_true(hog_alive(&crit));
    g_assert_true(g_file_test(crit_dir, G_FILE_TEST_IS_DIR));
    (void)hog_kill(&crit);
    apitest_stop(&t);
    freezable_fs_teardown(&fs);
}

/*
 * A group's cgroup deleted and made again under the same name is another cgroup: CreateGroup writes
 * its limits to the new one (it returned the stale group, whose values it thought were written), a
 * reload drops the old and adopts the new, and memctld kills in it (the core watched the dead one).
 */
static void test_recreated(void)
{
    ApiTest t;
    apitest_start(&t, "memctl-recreated", NULL);
    g_autoptr(GError) err = NULL;
    g_autoptr(GVariant) made = bustest_call(
            &t.bus, "CreateGroup",
            g_variant_new("(s@a{sv})", "g", limits1("limit", g_variant_new_string("64M"))), &err);
    g_assert_no_error(err);
    g_autofree char *dir = g_build_filename(t.root, "g", NULL);
    for (guint round = 0; round < 2; round++) {
        g_assert_no_errno(rmdir(dir));
        g_assert_no_errno(mkdir(dir, 0755));
        g_assert_cmpuint(cgtest_read_u64(dir, "memory.max"), ==, G_MAXUINT64); /* a new cgroup */
        if (round == 0) {
            g_autoptr(GVariant) again = bustest_call(
                    &t.bus, "CreateGroup",
                    g_variant_new("(s@a{sv})", "g", limits1("limit", g_variant_new_string("64M"))), &err);
            g_assert_no_error(err);
            g_assert_cmpuint(cgtest_read_u64(dir, "memory.max"), ==, 64 * MiB);
        } else {
            /* made by someone else, limits and all: a reload takes it for what it is */
            g_assert_cmpint(cgtest_write(dir, "memory.max", "67108864"), ==, 0);
            g_assert_cmpint(cgtest_write(dir, "memory.high", "62914560"), ==, 0);
            g_autofree char *out = apitest_cli(&t, 0, (const char *[]){"reload", NULL});
            g_assert_nonnull(strstr(out, "gone g"));
            g_assert_nonnull(strstr(out, "adopted g"));
        }
        Hog hog;
        hog_start(&hog, (const char *[]){"--cgroup", dir, "--step", "1M", NULL});
        int st = hog_wait(&hog, 60000);
        g_assert_true(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        g_assert_cmpuint(daemontest_wait_count(&t.d, "\"type\":\"kill\"", round + 1, 10000), ==, round + 1);
        g_assert_cmpuint(cgtest_read_key(dir, "memory.events.local", "oom_kill"), ==, 0);
    }
    apitest_stop(&t);
}

/* Slices: a group's systemd-style display name, from CreateGroup/SetLimits ("slice") or a policy
 * file; shown by memctl show, labelled in memctl_group_info, kept across a restart (state file),
 * a bad one refused naming the key, and nothing changed. */
static void test_slice(void)
{
    g_autofree char *dir = g_dir_make_tmp("memctl-slice-XXXXXX", NULL);
    g_autofree char *state = g_build_filename(dir, "state.json", NULL);
    g_autofree char *policy = g_build_filename(dir, "memctld.json", NULL);
    g_assert_true(g_file_set_contents(
            policy, "{\"groups\": {\"db\": {\"limit\": \"64M\", \"slice\": \"system.slice/db.service\"}}}",
            -1, NULL));
    g_autofree char *a_state = g_strdup_printf("--state-file=%s", state);
    g_autofree char *a_policy = g_strdup_printf("--config=%s", policy);
    const char *args[] = {a_state, a_policy, NULL};
    ApiTest t;
    apitest_start(&t, "memctl-slice", args);

    g_free(apitest_cli(
            &t, 0, (const char *[]){"create", "web", "limit=64M", "slice=machines.slice/web.scope", NULL}));
    g_autofree char *show = apitest_cli(&t, 0, (const char *[]){"show", "web", "--json", NULL});
    json_object *p = parse_json(show);
    g_assert_cmpstr(json_str(p, "Slice"), ==, "machines.slice/web.scope");
    json_object_put(p);
    g_autofree char *metrics = apitest_cli(&t, 0, (const char *[]){"metrics", NULL});
    g_assert_nonnull(
            strstr(metrics, "memctl_group_info{group=\"web\",slice=\"machines.slice/web.scope\"} 1"));
    g_assert_nonnull(strstr(metrics, "memctl_group_info{group=\"db\",slice=\"system.slice/db.service\"} 1"));

    /* refused, naming the key; nothing changes (not even the limit given with it) */
    g_autofree char *e1 =
            apitest_cli_err(&t, 2, (const char *[]){"set", "web", "limit=32M", "slice=../etc", NULL});
    g_assert_nonnull(strstr(e1, "slice"));
    g_autofree char *web = g_build_filename(t.root, "web", NULL);
    g_assert_cmpuint(cgtest_read_u64(web, "memory.max"), ==, 64 * MiB);
    g_autofree char *show2 = apitest_cli(&t, 0, (const char *[]){"show", "web", "--json", NULL});
    p = parse_json(show2);
    g_assert_cmpstr(json_str(p, "Slice"), ==, "machines.slice/web.scope");
    json_object_put(p);

    /* a restart: the D-Bus group's slice comes back from the state file, the policy's from the file */
    daemontest_stop(&t.d);
    g_autofree char *a_bus = g_strdup_printf("--bus-address=%s", t.bus.address);
    daemontest_start(&t.d, t.root, (const char *[]){a_bus, a_state, a_policy, NULL});
    bustest_wait_name(&t.bus, MEMCTL_BUS_NAME, 5000);
    g_autofree char *metrics2 = apitest_cli(&t, 0, (const char *[]){"metrics", NULL});
    g_assert_nonnull(
            strstr(metrics2, "memctl_group_info{group=\"web\",slice=\"machines.slice/web.scope\"} 1"));
    g_assert_nonnull(strstr(metrics2, "memctl_group_info{group=\"db\",slice=\"system.slice/db.service\"} 1"));

    /* "" clears it */
    g_free(apitest_cli(&t, 0, (const char *[]){"set", "web", "slice=", NULL}));
    g_autofree char *show3 = apitest_cli(&t, 0, (const char *[]){"show", "web", "--json", NULL});
    p = parse_json(show3);
    g_assert_cmpstr(json_str(p, "Slice"), ==, "");
    json_object_put(p);
    apitest_stop(&t);
    cgtest_remove_tmpdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    cgtest_require_cgroup2();
    g_test_add_func("/bus/introspection", test_introspection);
    g_test_add_func("/bus/cli-lifecycle", test_cli_lifecycle);
    g_test_add_func("/bus/bad-input", test_bad_input);
    g_test_add_func("/bus/reload", test_reload);
    g_test_add_func("/bus/slice", test_slice);
    g_test_add_func("/bus/unwatchable", test_unwatchable);
    g_test_add_func("/bus/remove-kill", test_remove_kill);
    g_test_add_func("/bus/recreated", test_recreated);
    return g_test_run();
}
