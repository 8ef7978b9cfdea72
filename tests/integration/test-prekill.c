/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Freeze, then decide (docs/POLICY.md), on the real kernel: a kill verdict in a group with a
 * pre-kill wait freezes the group (cgroup.freeze), announces the victim and runs the group's
 * executable; its exit (or PreKillDone) ends the wait, the victim is killed (SIGKILL reaches a
 * frozen task) and the group thawed. A hook that hangs is cut at the deadline the core keeps; a
 * group without a wait is killed at once; a group memctld froze and never thawed (it was killed in
 * the middle) is thawed when the next memctld adopts it.
 *
 * No swap in the VM: a hog over high is a verdict on knowledge at once (no-reclaim).
 */
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "daemon/core/api.h"
#include "include/memctl/memctl.h"
#include "tests/lib/bustest.h"
#include "tests/lib/cgtest.h"

#define MiB ((uint64_t)1024 * 1024)

static uint64_t rec_u64(const char *rec, const char *key)
{
    g_autofree char *k = g_strdup_printf("\"%s\":", key);
    const char *p = strstr(rec, k);
    if (!p)
        g_error("no %s in the record: %s", key, rec);
    return g_ascii_strtoull(p + strlen(k), NULL, 10);
}

/* A hook script in dir (root's, 0755) with body; returns its path. */
static char *write_hook(const char *dir, const char *body)
{
    char *path = g_build_filename(dir, "hook.sh", NULL);
    g_autofree char *text = g_strdup_printf("#!/bin/sh\n%s\n", body);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    g_assert_no_errno(chmod(path, 0755));
    return path;
}

/* memctld with a policy: group t (high 64M, max 128M) waiting `timeout` for `hook` (NULL: none),
 * and group u, the same without a wait. */
static void start(DaemonTest *d, const char *root, const char *dir, const char *timeout, const char *hook)
{
    g_autofree char *file = g_build_filename(dir, "memctld.json", NULL);
    g_autofree char *exec = hook ? g_strdup_printf(", \"prekill_exec\": \"%s\"", hook) : g_strdup("");
    g_autofree char *text = g_strdup_printf(
            "{\"groups\": {\"t\": {\"high\": \"64M\", \"max\": \"128M\", \"prekill_timeout\": \"%s\"%s},"
            " \"u\": {\"high\": \"64M\", \"max\": \"128M\"}}}\n",
            timeout, exec);
    g_assert_true(g_file_set_contents(file, text, -1, NULL));
    g_autofree char *a_config = g_strdup_printf("--config=%s", file);
    daemontest_start(d, root, (const char *[]){a_config, NULL});
}

/* A test's memctld (started by fx_start), its temp dir (the policy, the hook, what the hook writes),
 * its root and group t's path. */
typedef struct {
    DaemonTest d;
    char *dir, *root, *t, *hook;
} Fixture;

/* A hook with body (NULL: none; "$D" is the temp dir), t's wait `timeout`, memctld started. */
static void fx_start(Fixture *x, const char *prefix, const char *timeout, const char *body)
{
    x->dir = g_dir_make_tmp("memctl-prekill-XXXXXX", NULL);
    g_assert_nonnull(x->dir);
    g_autofree char *with_dir = body ? g_strdup_printf("D=%s\n%s", x->dir, body) : NULL;
    x->hook = body ? write_hook(x->dir, with_dir) : NULL;
    x->root = cgtest_fresh_root(prefix);
    x->t = g_build_filename(x->root, "t", NULL);
    start(&x->d, x->root, x->dir, timeout, x->hook);
}

static void fx_stop(Fixture *x)
{
    daemontest_stop(&x->d);
    cgtest_remove_tree(x->root);
    cgtest_remove_tmpdir(x->dir);
    g_free(x->dir);
    g_free(x->root);
    g_free(x->t);
    g_free(x->hook);
}

static void hog_in(Hog *h, const char *grp)
{
    hog_start(h, (const char *[]){"--cgroup", grp, "--step", "1M", "--interval-ms", "50", "--total", "100M",
                                  "--hold", NULL});
}

static bool marked(const char *grp)
{
    char v[8];
    return getxattr(grp, MEMCTL_PREKILL_XATTR, v, sizeof(v)) >= 0;
}

/* The hog's end: killed (SIGKILL), and memctld's record of it (to free). */
static char *killed_record(DaemonTest *d, Hog *hog)
{
    int pid = (int)hog->pid;
    int st = hog_wait(hog, 60000);
    g_assert_true(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    g_autofree char *needle = g_strdup_printf("\"pid\":%d,", pid);
    char *rec = daemontest_wait_record(d, 5000, "\"type\":\"kill\"", needle);
    if (!rec)
        g_error("no kill record for %d", pid);
    return rec;
}

static char *read_file(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        g_error("the hook did not write %s", path);
    return text;
}

/* The hook runs while the group is frozen: it reads the victim's status, and memory.current does not
 * move for a second; its exit ends the wait well before the deadline; the victim is killed and the
 * group thawed. A group without a wait (u) is killed at once, with no hook. */
static void test_hook_while_frozen(void)
{
    Fixture x;
    fx_start(&x, "memctl-prekill", "5s",
             "cat /proc/$MEMCTL_PID/status > $D/status\n"
             "grep frozen $MEMCTL_CGROUP/cgroup.events > $D/frozen\n"
             "cat $MEMCTL_CGROUP/memory.current > $D/m1\n"
             "sleep 1\n"
             "cat $MEMCTL_CGROUP/memory.current > $D/m2\n"
             "env > $D/env\n"
             "cat /proc/self/oom_score_adj > $D/adj\n"
             "cat /proc/self/cgroup > $D/cgroup\n");
    g_autofree char *u = g_build_filename(x.root, "u", NULL);

    Hog hog;
    hog_in(&hog, x.t);
    int pid = (int)hog.pid;
    g_autofree char *rec = killed_record(&x.d, &hog);
    g_autofree char *needle = g_strdup_printf("\"pid\":%d,", pid);
    g_autofree char *announced = daemontest_wait_record(&x.d, 5000, "\"type\":\"prekill\"", needle);
    g_assert_nonnull(announced);
    g_assert_nonnull(strstr(announced, "\"frozen\":true"));
    g_test_message("record: %s", rec);
    uint64_t waited = rec_u64(rec, "prekill_usec");
    g_assert_cmpuint(waited, >=, 1000000); /* the hook's second */
    g_assert_cmpuint(waited, <, 5000000);  /* its exit, not the deadline, ended the wait */
    g_assert_nonnull(strstr(rec, "\"frozen\":true"));
    g_assert_cmpuint(cgtest_read_key(x.t, "memory.events.local", "oom_kill"), ==, 0);

    /* what the hook saw, frozen */
    g_autofree char *status = read_file(x.dir, "status");
    g_autofree char *name = g_strdup_printf("Pid:\t%d\n", pid);
    g_assert_nonnull(strstr(status, name));
    g_autofree char *frozen = read_file(x.dir, "frozen");
    g_assert_cmpstr(frozen, ==, "frozen 1\n");
    g_autofree char *m1 = read_file(x.dir, "m1");
    g_autofree char *m2 = read_file(x.dir, "m2");
    g_assert_cmpstr(m1, ==, m2);
    g_autofree char *env = read_file(x.dir, "env");
    g_autofree char *env_pid = g_strdup_printf("MEMCTL_PID=%d\n", pid);
    g_assert_nonnull(strstr(env, env_pid));
    g_assert_nonnull(strstr(env, "MEMCTL_GROUP=t\n"));
    g_assert_nonnull(strstr(env, "MEMCTL_REASON="));
    g_assert_nonnull(strstr(env, "MEMCTL_DEADLINE_USEC="));
    /* memctld's own: its notify socket (the test gives memctld one), its oom_score_adj of -1000 */
    g_assert_null(strstr(env, "NOTIFY_SOCKET="));
    g_autofree char *adj = read_file(x.dir, "adj");
    g_assert_cmpstr(adj, ==, "0\n");
    /* in the hooks' leaf beside memctld's, not in memctld's protected one, not in the frozen group */
    g_autofree char *cg = read_file(x.dir, "cgroup");
    g_assert_true(g_str_has_suffix(cg, "/" MEMCTL_HOOKS_LEAF "\n"));
    /* thawed, unmarked */
    g_assert_cmpuint(cgtest_read_u64(x.t, "cgroup.freeze"), ==, 0);
    g_assert_false(marked(x.t));

    /* u has no wait: killed at once, nothing announced */
    Hog other;
    hog_in(&other, u);
    g_autofree char *urec = killed_record(&x.d, &other);
    g_assert_null(strstr(urec, "prekill_usec"));
    g_assert_cmpuint(daemontest_count_records(&x.d, "\"type\":\"prekill\""), ==, 1);
    fx_stop(&x);
}

/* A hook that never answers: the core's deadline (1 s) kills all the same, and the hook goes. */
static void test_hang_cut_at_deadline(void)
{
    Fixture x;
    fx_start(&x, "memctl-prekill-hang", "1s", "echo $$ > $D/pid\nexec sleep 100");
    Hog hog;
    hog_in(&hog, x.t);
    g_autofree char *rec = killed_record(&x.d, &hog);
    uint64_t waited = rec_u64(rec, "prekill_usec");
    g_test_message("waited %.3f s for a hook that hangs (deadline 1 s)", waited / 1e6);
    g_assert_cmpuint(waited, >=, 1000000);
    g_assert_cmpuint(waited, <, 1000000 + 500000); /* windows of 50 ms; TCG's slack */
    g_assert_cmpuint(cgtest_read_u64(x.t, "cgroup.freeze"), ==, 0);
    /* the hook is killed once its wait is over */
    g_autofree char *hpid = read_file(x.dir, "pid");
    g_autofree char *proc = g_strdup_printf("/proc/%d", atoi(hpid));
    int waited_ms = 0;
    while (g_file_test(proc, G_FILE_TEST_EXISTS) && waited_ms < 5000) {
        g_usleep(50 * 1000);
        waited_ms += 50;
    }
    g_assert_false(g_file_test(proc, G_FILE_TEST_EXISTS));
    fx_stop(&x);
}

/* memctld killed while the group is frozen for its hooks: the group stays frozen and marked, and the
 * next memctld thaws it when it adopts it (and, the group still over high, kills its victim). A
 * group frozen without the mark (a runtime's pause) is left frozen. */
static void test_restart_thaws(void)
{
    Fixture x;
    fx_start(&x, "memctl-prekill-restart", "10s", "echo $$ > $D/pid\nexec sleep 100");
    g_autofree char *paused = cgtest_mkdir(x.root, "paused");
    g_assert_cmpint(cgtest_write(paused, "cgroup.freeze", "1"), ==, 0);
    Hog hog;
    hog_in(&hog, x.t);
    g_autofree char *needle = g_strdup_printf("\"pid\":%d,", (int)hog.pid);
    g_autofree char *announced = daemontest_wait_record(&x.d, 30000, "\"type\":\"prekill\"", needle);
    g_assert_nonnull(announced);
    g_free(daemontest_crash(&x.d));
    g_assert_true(hog_alive(&hog));
    g_assert_cmpuint(cgtest_read_u64(x.t, "cgroup.freeze"), ==, 1);
    g_assert_true(marked(x.t));

    /* without a wait now: the group is thawed at adoption, then its verdict kills at once (a wait
     * would freeze it again) */
    start(&x.d, x.root, x.dir, "0", NULL);
    int st = hog_wait(&hog, 30000);
    g_assert_true(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    g_assert_cmpuint(cgtest_read_u64(x.t, "cgroup.freeze"), ==, 0);
    g_assert_false(marked(x.t));
    g_assert_cmpuint(cgtest_read_u64(paused, "cgroup.freeze"), ==, 1); /* not memctld's */
    g_autofree char *log = NULL;
    g_assert_true(g_file_get_contents(x.d.log, &log, NULL, NULL));
    g_assert_nonnull(strstr(log, "t: thawed"));
    g_assert_null(strstr(log, "paused: thawed"));
    g_assert_cmpint(cgtest_write(paused, "cgroup.freeze", "0"), ==, 0);
    g_autofree char *pidfile = g_build_filename(x.dir, "pid", NULL);
    g_autofree char *hpid = NULL;
    if (g_file_get_contents(pidfile, &hpid, NULL,
                            NULL)) /* the first memctld's hook, if it ran, outlived it */
        (void)kill(atoi(hpid), SIGKILL);
    fx_stop(&x);
}

typedef struct {
    bool heard;
    char *group;
    uint32_t pid;
    uint64_t deadline;
} PreKillHeard;

static void on_prekill(GDBusConnection *c, const char *sender, const char *path, const char *iface,
                       const char *signal, GVariant *params, gpointer user_data)
{
    PreKillHeard *h = user_data;
    g_free(h->group);
    g_variant_get(params, "(su&s&st)", &h->group, &h->pid, NULL, NULL, &h->deadline);
    h->heard = true;
}

/* Over the bus: prekill_timeout set by CreateGroup, PreKill announces the victim and the deadline,
 * PreKillDone ends the wait at once; PreKillDone with nothing waiting is an error. */
static void test_bus_done(void)
{
    ApiTest t;
    apitest_start(&t, "memctl-prekill-bus", NULL);
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
    g_variant_builder_add(&b, "{sv}", "high", g_variant_new_string("64M"));
    g_variant_builder_add(&b, "{sv}", "max", g_variant_new_string("128M"));
    g_variant_builder_add(&b, "{sv}", "prekill_timeout", g_variant_new_uint32(8000));
    apitest_call_ok(&t, "CreateGroup", g_variant_new("(sa{sv})", "w", &b));
    apitest_call_fails(&t, "PreKillDone", g_variant_new("(s)", "w"), "org.memctl.Error.InvalidArgument",
                       "waiting");
    apitest_call_fails(&t, "PreKillDone", g_variant_new("(s)", "nope"), "org.memctl.Error.NoSuchGroup", NULL);
    g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
    g_variant_builder_add(&b, "{sv}", "prekill_timeout", g_variant_new_string("20s"));
    apitest_call_fails(&t, "SetLimits", g_variant_new("(sa{sv})", "w", &b),
                       "org.memctl.Error.InvalidArgument", "prekill_timeout");

    PreKillHeard h = {0};
    guint sub = g_dbus_connection_signal_subscribe(t.bus.conn, MEMCTL_BUS_NAME, MEMCTL_MANAGER_INTERFACE,
                                                   "PreKill", MEMCTL_MANAGER_PATH, NULL,
                                                   G_DBUS_SIGNAL_FLAGS_NONE, on_prekill, &h, NULL);
    g_autofree char *grp = g_build_filename(t.root, "w", NULL);
    Hog hog;
    hog_in(&hog, grp);
    int pid = (int)hog.pid;
    g_assert_true(bustest_wait_flag(&h.heard, 30000));
    g_assert_cmpstr(h.group, ==, "w");
    g_assert_cmpuint(h.pid, ==, (uint32_t)pid);
    g_assert_cmpuint(h.deadline, >, (uint64_t)g_get_real_time() + 4000000); /* about 8 s from the verdict */
    g_assert_cmpuint(cgtest_read_u64(grp, "cgroup.freeze"), ==, 1);
    apitest_call_ok(&t, "PreKillDone", g_variant_new("(s)", "w"));
    g_autofree char *rec = killed_record(&t.d, &hog);
    g_assert_cmpuint(rec_u64(rec, "prekill_usec"), <, 4000000); /* at once, not at the deadline (8 s) */
    g_assert_cmpuint(cgtest_read_u64(grp, "cgroup.freeze"), ==, 0);
    g_free(h.group);
    g_dbus_connection_signal_unsubscribe(t.bus.conn, sub);
    apitest_stop(&t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/prekill/hook-while-frozen", test_hook_while_frozen);
    g_test_add_func("/prekill/hang-cut-at-deadline", test_hang_cut_at_deadline);
    g_test_add_func("/prekill/restart-thaws", test_restart_thaws);
    g_test_add_func("/prekill/bus-done", test_bus_done);
    return g_test_run();
}
