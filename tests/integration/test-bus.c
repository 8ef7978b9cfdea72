/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * org.memctl.Manager1 end to end on the real kernel and a private dbus-daemon that loads the
 * shipped bus policy: the introspection equals the contract, every verb of the memctl CLI, the
 * signals, ReloadPolicy and slices. The group verbs' edges are test-bus-groups.c's.
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
    /* the groups' parent lists them (busctl tree), and a path with no group behind it is no object */
    const char *more[] = {"create", "tenants", NULL}, *nested[] = {"create", "tenants/a", NULL};
    g_assert_cmpint(bustest_cli(&t.bus, more, NULL, NULL), ==, 0);
    g_assert_cmpint(bustest_cli(&t.bus, nested, NULL, NULL), ==, 0);
    g_autofree char *parent = g_strndup(MEMCTL_GROUP_PATH_PREFIX, strlen(MEMCTL_GROUP_PATH_PREFIX) - 1);
    g_autofree char *plive = introspect(&t.bus, parent);
    g_autoptr(GDBusNodeInfo) pnode = g_dbus_node_info_new_for_xml(plive, NULL);
    g_assert_nonnull(pnode);
    g_autoptr(GPtrArray) kids = g_ptr_array_new();
    for (GDBusNodeInfo **n = pnode->nodes; n && *n; n++)
        g_ptr_array_add(kids, (*n)->path);
    for (guint i = 0; i < kids->len; i++)
        g_test_message("child node %s", (char *)kids->pdata[i]);
    g_assert_true(g_ptr_array_find_with_equal_func(kids, "web", g_str_equal, NULL));
    g_assert_true(g_ptr_array_find_with_equal_func(kids, "tenants_2fa", g_str_equal, NULL));
    static const char *const gone[] = {MEMCTL_GROUP_PATH_PREFIX "nosuch",
                                       MEMCTL_GROUP_PATH_PREFIX "tenants_2"};
    for (size_t i = 0; i < G_N_ELEMENTS(gone); i++) {
        g_autoptr(GError) gerr = NULL;
        g_autoptr(GVariant) r = g_dbus_connection_call_sync(
                t.bus.conn, MEMCTL_BUS_NAME, gone[i], "org.freedesktop.DBus.Properties", "Get",
                g_variant_new("(ss)", MEMCTL_GROUP_INTERFACE, "Name"), G_VARIANT_TYPE("(v)"),
                G_DBUS_CALL_FLAGS_NONE, -1, NULL, &gerr);
        g_assert_null(r);
        g_assert_nonnull(gerr);
        g_test_message("%s: %s", gone[i], gerr->message);
    }
    g_autoptr(GError) nerr = NULL;
    g_autoptr(GVariant) nm = g_dbus_connection_call_sync(
            t.bus.conn, MEMCTL_BUS_NAME, MEMCTL_GROUP_PATH_PREFIX "tenants_2fa",
            "org.freedesktop.DBus.Properties", "Get", g_variant_new("(ss)", MEMCTL_GROUP_INTERFACE, "Name"),
            G_VARIANT_TYPE("(v)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &nerr);
    g_assert_no_error(nerr);
    g_autoptr(GVariant) nv = g_variant_get_child_value(nm, 0);
    g_autoptr(GVariant) ns = g_variant_get_variant(nv);
    g_assert_cmpstr(g_variant_get_string(ns, NULL), ==, "tenants/a");
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

/* A process in group `name` (sleep), attached by memctl attach; its pid. */
static GPid sleeper_in(ApiTest *t, const char *name)
{
    GPid pid;
    g_autoptr(GError) err = NULL;
    g_assert_true(g_spawn_async(NULL, (char *[]){"/bin/sleep", "300", NULL}, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                NULL, NULL, &pid, &err));
    g_autofree char *spid = g_strdup_printf("%d", (int)pid);
    g_free(apitest_cli(t, 0, (const char *[]){"attach", name, spid, NULL}));
    return pid;
}

static uint64_t status_kills(ApiTest *t)
{
    g_autofree char *out = apitest_cli(t, 0, (const char *[]){"status", "--json", NULL});
    json_object *p = parse_json(out);
    uint64_t v = json_u64(p, "kills");
    json_object_put(p);
    return v;
}

static uint64_t group_kills(ApiTest *t, const char *name)
{
    g_autofree char *out = apitest_cli(t, 0, (const char *[]){"show", name, "--json", NULL});
    json_object *p = parse_json(out);
    uint64_t v = json_u64(p, "Kills");
    json_object_put(p);
    return v;
}

/* The kill counters, in all and by group (a D-Bus group's and a policy file's), are kept across a
 * restart in the state file: an upgrade or the watchdog does not reset them. */
static void test_kill_counters_kept(void)
{
    g_autofree char *dir = g_dir_make_tmp("memctl-counters-XXXXXX", NULL);
    g_autofree char *state = g_build_filename(dir, "state.json", NULL);
    g_autofree char *policy = g_build_filename(dir, "memctld.json", NULL);
    g_assert_true(g_file_set_contents(policy, "{\"groups\": {\"db\": {\"limit\": \"64M\"}}}", -1, NULL));
    g_autofree char *a_state = g_strdup_printf("--state-file=%s", state);
    g_autofree char *a_policy = g_strdup_printf("--config=%s", policy);
    ApiTest t;
    apitest_start(&t, "memctl-counters", (const char *[]){a_state, a_policy, NULL});
    g_free(apitest_cli(&t, 0, (const char *[]){"create", "web", "limit=64M", NULL}));
    const char *groups[] = {"web", "db", "web"};
    for (size_t i = 0; i < G_N_ELEMENTS(groups); i++) {
        GPid pid = sleeper_in(&t, groups[i]);
        g_free(apitest_cli(&t, 0, (const char *[]){"kill", groups[i], NULL}));
        int status = 0;
        g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
        g_assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        g_spawn_close_pid(pid);
    }
    for (int i = 0; i < 100 && status_kills(&t) < 3; i++)
        g_usleep(50 * 1000);
    g_assert_cmpuint(status_kills(&t), ==, 3);

    /* the restart: the counters come back from the state file */
    daemontest_stop(&t.d);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(state, &text, NULL, NULL));
    g_assert_nonnull(strstr(text, "\"kills\""));
    g_autofree char *a_bus = g_strdup_printf("--bus-address=%s", t.bus.address);
    daemontest_start(&t.d, t.root, (const char *[]){a_bus, a_state, a_policy, NULL});
    bustest_wait_name(&t.bus, MEMCTL_BUS_NAME, 5000);
    g_assert_cmpuint(status_kills(&t), ==, 3);
    g_assert_cmpuint(group_kills(&t, "web"), ==, 2);
    g_assert_cmpuint(group_kills(&t, "db"), ==, 1);
    apitest_stop(&t);
    cgtest_remove_tmpdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    cgtest_require_cgroup2();
    g_test_add_func("/bus/introspection", test_introspection);
    g_test_add_func("/bus/cli-lifecycle", test_cli_lifecycle);
    g_test_add_func("/bus/reload", test_reload);
    g_test_add_func("/bus/slice", test_slice);
    g_test_add_func("/bus/kill-counters-kept", test_kill_counters_kept);
    return g_test_run();
}
