/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The group verbs' edges over a private dbus-daemon on the real kernel: bad input (refused, named,
 * nothing half done), groups the core cannot watch (not managed), RemoveGroup with --kill answered
 * once the group is empty, and a cgroup made again under a managed name (a new group, not the old).
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

/* AttachProcesses of the one pid into group g: refused as an invalid argument naming `needle`. */
static void attach_refused(ApiTest *t, guint32 pid, const char *needle)
{
    apitest_call_fails(
            t, "AttachProcesses",
            g_variant_new("(s@au)", "g", g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, &pid, 1, 4)),
            MEMCTL_DBUS_ERROR_INVALID_ARGUMENT, needle);
}

static void test_bad_input(void)
{
    ApiTest t;
    apitest_start(&t, "memctl-badbus", NULL);
    const char *inval = MEMCTL_DBUS_ERROR_INVALID_ARGUMENT;

    /* wrong types never reach memctld's code */
    apitest_call_fails(&t, "CreateGroup", g_variant_new("(ii)", 1, 2),
                       "org.freedesktop.DBus.Error.InvalidArgs", NULL);
    apitest_call_fails(&t, "RemoveGroup", g_variant_new("(s)", "x"), "org.freedesktop.DBus.Error.InvalidArgs",
                       NULL);

    /* the limits dictionary: every error names the key */
    apitest_call_fails(&t, "CreateGroup",
                       g_variant_new("(s@a{sv})", "a", bustest_dict1("bogus", g_variant_new_string("1"))),
                       inval, "bogus");
    apitest_call_fails(
            &t, "CreateGroup",
            g_variant_new("(s@a{sv})", "a", bustest_dict1("limit", g_variant_new_string("99999999999T"))),
            inval, "limit");
    apitest_call_fails(&t, "CreateGroup",
                       g_variant_new("(s@a{sv})", "a", bustest_dict1("limit", g_variant_new_string("-1"))),
                       inval, "limit");
    apitest_call_fails(&t, "CreateGroup",
                       g_variant_new("(s@a{sv})", "a", bustest_dict1("limit", g_variant_new("(ii)", 1, 2))),
                       inval, "limit");
    apitest_call_fails(&t, "CreateGroup",
                       g_variant_new("(s@a{sv})", "a", bustest_dict1("oom_group", g_variant_new_int32(5))),
                       inval, "oom_group");
    apitest_call_fails(&t, "CreateGroup",
                       g_variant_new("(s@a{sv})", "a", bustest_dict1("priority", g_variant_new_uint32(1000))),
                       inval, "priority");
    GVariantBuilder u;
    g_variant_builder_init(&u, G_VARIANT_TYPE("a{ss}"));
    g_variant_builder_add(&u, "{ss}", "memory.max", "64M");
    g_variant_builder_add(&u, "{ss}", "cpu.max", "100000");
    apitest_call_fails(&t, "CreateGroup",
                       g_variant_new("(s@a{sv})", "a", bustest_dict1("unified", g_variant_builder_end(&u))),
                       inval, "cpu.max");
    GVariantBuilder two;
    g_variant_builder_init(&two, G_VARIANT_TYPE("a{sv}"));
    g_variant_builder_add(&two, "{sv}", "min", g_variant_new_string("2G"));
    g_variant_builder_add(&two, "{sv}", "max", g_variant_new_string("1G"));
    apitest_call_fails(&t, "CreateGroup", g_variant_new("(s@a{sv})", "a", g_variant_builder_end(&two)), inval,
                       "'");

    /* names: path escapes, reserved, empty, control characters, too long */
    g_autofree char *longname = g_strnfill(300, 'x');
    const char *names[] = {"../etc", "a/../../b", "/abs", "..", "memctld", "", "a\nb", "a//b", longname};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        apitest_call_fails(
                &t, "CreateGroup",
                g_variant_new("(s@a{sv})", names[i], bustest_dict1("min", g_variant_new_uint64(0))), inval,
                "name");
        apitest_call_fails(&t, "GetGroup", g_variant_new("(s)", names[i]), inval, "name");
    }
    g_autofree char *escaped = g_build_filename(cgtest_mount(), "etc", NULL);
    g_assert_false(g_file_test(escaped, G_FILE_TEST_EXISTS));
    apitest_call_fails(&t, "GetGroup", g_variant_new("(s)", "nosuch"), MEMCTL_DBUS_ERROR_NO_SUCH_GROUP,
                       "nosuch");

    /* a group for the per-group calls */
    g_autoptr(GError) err = NULL;
    g_autoptr(GVariant) ok = bustest_call(
            &t.bus, "CreateGroup",
            g_variant_new("(s@a{sv})", "g", bustest_dict1("limit", g_variant_new_uint64(64 * MiB))), &err);
    g_assert_no_error(err);
    apitest_call_fails(&t, "SetLimits",
                       g_variant_new("(s@a{sv})", "g", bustest_dict1("limit", g_variant_new_uint64(0))),
                       inval, "limit");
    g_autofree char *g = g_build_filename(t.root, "g", NULL);
    g_assert_cmpuint(cgtest_read_u64(g, "memory.max"), ==, 64 * MiB);
    apitest_call_fails(&t, "SetLimits",
                       g_variant_new("(s@a{sv})", "g", g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0)),
                       inval, "limits");
    /* proactive reclaim's keys: each bad value named, and nothing of the call applied (reclaim=auto
     * given with it stays off) */
    static const struct {
        const char *key, *text;
        guint32 u;
    } bad_reclaim[] = {
            {"reclaim_pressure", NULL, 0},
            {"reclaim_pressure", NULL, 9},
            {"reclaim_pressure", NULL, 100001},
            {"reclaim_pressure", "11%", 0},
            {"reclaim_pressure", "fast", 0},
            {"reclaim_pressure", "0.0001%", 0},
            {"reclaim_pressure", "-1ms", 0},
            {"reclaim", "yes", 0},
            {"reclaim", "", 0},
            {"reclaim_floor", "max", 0},
            {"reclaim_floor", "-1", 0},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad_reclaim); i++) {
        GVariantBuilder b;
        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        if (strcmp(bad_reclaim[i].key, "reclaim") != 0)
            g_variant_builder_add(&b, "{sv}", "reclaim", g_variant_new_string("auto"));
        g_variant_builder_add(&b, "{sv}", bad_reclaim[i].key,
                              bad_reclaim[i].text ? g_variant_new_string(bad_reclaim[i].text)
                                                  : g_variant_new_uint32(bad_reclaim[i].u));
        g_autofree char *needle = g_strdup_printf("'%s'", bad_reclaim[i].key);
        apitest_call_fails(&t, "SetLimits", g_variant_new("(s@a{sv})", "g", g_variant_builder_end(&b)), inval,
                           needle);
        g_autoptr(GVariant) reclaim = apitest_group_prop(&t, "g", "Reclaim");
        g_assert_cmpstr(g_variant_get_string(reclaim, NULL), ==, "off");
    }
    /* UINT64_MAX is "max" (the contract; what Group1.MemoryMax reads for no limit): a value read back
     * goes back in */
    g_autoptr(GVariant) u_made = bustest_call(
            &t.bus, "CreateGroup",
            g_variant_new("(s@a{sv})", "u", bustest_dict1("swap_max", g_variant_new_uint64(0))), &err);
    g_assert_no_error(err);
    g_autoptr(GVariant) u_max = bustest_call(
            &t.bus, "SetLimits",
            g_variant_new("(s@a{sv})", "u", bustest_dict1("max", g_variant_new_uint64(G_MAXUINT64))), &err);
    g_assert_no_error(err);
    g_autofree char *ud = g_build_filename(t.root, "u", NULL);
    g_assert_cmpuint(cgtest_read_u64(ud, "memory.max"), ==, G_MAXUINT64);
    g_autoptr(GVariant) u_gone =
            bustest_call(&t.bus, "RemoveGroup", g_variant_new("(st)", "u", (guint64)0), &err);
    g_assert_no_error(err);
    apitest_call_fails(
            &t, "SetLimits",
            g_variant_new("(s@a{sv})", "g", bustest_dict1("limit", g_variant_new_uint64(G_MAXUINT64))), inval,
            "limit");
    g_assert_cmpuint(cgtest_read_u64(g, "memory.max"), ==, 64 * MiB);

    /* a million pids, pid 0, a pid that does not exist, memctld itself */
    guint32 *million = g_new0(guint32, 1000000);
    for (guint i = 0; i < 1000000; i++)
        million[i] = i + 1;
    apitest_call_fails(&t, "AttachProcesses",
                       g_variant_new("(s@au)", "g",
                                     g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, million, 1000000,
                                                               sizeof(guint32))),
                       inval, "pids");
    g_free(million);
    guint32 zero = 0, ghost = 0x7ffffff0, self = (guint32)t.d.pid;
    attach_refused(&t, zero, "pids[0]");
    attach_refused(&t, ghost, "pids[0]");
    attach_refused(&t, self, "memctld");
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
    attach_refused(&t, core_tid, "is memctld itself");
    attach_refused(&t, init, "init process");
    attach_refused(&t, kthreadd, "kernel thread");
    g_autofree char *cgroup_after = NULL;
    g_assert_true(g_file_get_contents(cgroup_path, &cgroup_after, NULL, NULL));
    g_assert_cmpstr(cgroup_after, ==, cgroup_before);
    apitest_call_fails(&t, "RemoveGroup", g_variant_new("(st)", "g", (guint64)0x10), inval, "flags");
    apitest_call_fails(&t, "KillGroup", g_variant_new("(sst)", "g", "x", (guint64)4), inval, "flags");
    apitest_call_fails(&t, "KillGroup", g_variant_new("(sst)", "g", "bell\a", (guint64)0), inval, "reason");
    g_autofree char *long_reason = g_strnfill(300, 'r');
    apitest_call_fails(&t, "KillGroup", g_variant_new("(sst)", "g", long_reason, (guint64)0), inval,
                       "reason");

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
    apitest_call_fails(&t, "SetLimits",
                       g_variant_new("(s@a{sv})", left, bustest_dict1("limit", g_variant_new_string("32M"))),
                       MEMCTL_DBUS_ERROR_NO_SUCH_GROUP, NULL);
    apitest_call_fails(&t, "KillGroup", g_variant_new("(sst)", left, "", (guint64)0),
                       MEMCTL_DBUS_ERROR_NO_SUCH_GROUP, NULL);
    apitest_call_fails(&t, "RemoveGroup", g_variant_new("(st)", left, (guint64)0),
                       MEMCTL_DBUS_ERROR_NO_SUCH_GROUP, NULL);
    g_assert_true(g_file_test(left_dir, G_FILE_TEST_IS_DIR));
    g_assert_cmpuint(cgtest_read_u64(m0, "memory.max"), ==, G_MAXUINT64);
    g_assert_cmpuint(cgtest_read_u64(m1, "memory.max"), ==, G_MAXUINT64);

    /* CreateGroup with no slot left: refused, the new cgroup is not left behind, the existing one
     * keeps its values */
    apitest_call_fails(&t, "CreateGroup",
                       g_variant_new("(s@a{sv})", "d", bustest_dict1("limit", g_variant_new_string("32M"))),
                       MEMCTL_DBUS_ERROR_BUSY, "all group slots are in use");
    g_autofree char *d = g_build_filename(root, "d", NULL);
    g_assert_false(g_file_test(d, G_FILE_TEST_EXISTS));
    apitest_call_fails(&t, "CreateGroup",
                       g_variant_new("(s@a{sv})", left, bustest_dict1("limit", g_variant_new_string("32M"))),
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
                g_variant_new("(s@a{sv})", groups[i], bustest_dict1("limit", g_variant_new_string("64M"))),
                &err);
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
            apitest_call_fails(&t, "RemoveGroup", g_variant_new("(st)", "stuck", (guint64)1),
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
    apitest_call_fails(&t, "RemoveGroup", g_variant_new("(st)", "crit", (guint64)1), MEMCTL_DBUS_ERROR_BUSY,
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
            g_variant_new("(s@a{sv})", "g", bustest_dict1("limit", g_variant_new_string("64M"))), &err);
    g_assert_no_error(err);
    g_autofree char *dir = g_build_filename(t.root, "g", NULL);
    for (guint round = 0; round < 2; round++) {
        g_assert_no_errno(rmdir(dir));
        g_assert_no_errno(mkdir(dir, 0755));
        g_assert_cmpuint(cgtest_read_u64(dir, "memory.max"), ==, G_MAXUINT64); /* a new cgroup */
        if (round == 0) {
            g_autoptr(GVariant) again = bustest_call(
                    &t.bus, "CreateGroup",
                    g_variant_new("(s@a{sv})", "g", bustest_dict1("limit", g_variant_new_string("64M"))),
                    &err);
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

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    cgtest_require_cgroup2();
    g_test_add_func("/bus/bad-input", test_bad_input);
    g_test_add_func("/bus/unwatchable", test_unwatchable);
    g_test_add_func("/bus/remove-kill", test_remove_kill);
    g_test_add_func("/bus/recreated", test_recreated);
    return g_test_run();
}
