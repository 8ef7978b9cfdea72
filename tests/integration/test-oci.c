/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `memctl oci-hook` with Debian's crun on the real kernel and a private bus: a container whose
 * config.json has the hook and a memory limit becomes a memctl group with the limit translated; its
 * hog is killed by memctld (the Killed signal names the container's group), crun's exit status says
 * the container was killed, and the group is gone after poststop. A hook problem never stops a
 * container, unless the annotation org.memctl.required=true says it must.
 */
#include <json-c/json.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "include/memctl/memctl.h"
#include "tests/lib/bustest.h"
#include "tests/lib/cgtest.h"

#define MiB ((uint64_t)1024 * 1024)

typedef struct {
    bool killed;
    char group[256], reason[32];
} Seen;

static void on_killed(GDBusConnection *conn, const char *sender, const char *path, const char *iface,
                      const char *signal, GVariant *params, gpointer user_data)
{
    Seen *s = user_data;
    const char *group, *comm, *reason;
    guint32 pid;
    guint64 freed, latency;
    g_variant_get(params, "(&su&s&stt)", &group, &pid, &comm, &reason, &freed, &latency);
    g_strlcpy(s->group, group, sizeof(s->group));
    g_strlcpy(s->reason, reason, sizeof(s->reason));
    s->killed = true;
}

static json_object *strv(const char *const *v)
{
    json_object *a = json_object_new_array();
    for (; *v; v++)
        json_object_array_add(a, json_object_new_string(*v));
    return a;
}

static json_object *bind_mount(const char *path)
{
    json_object *m = json_object_new_object();
    json_object_object_add(m, "destination", json_object_new_string(path));
    json_object_object_add(m, "type", json_object_new_string("bind"));
    json_object_object_add(m, "source", json_object_new_string(path));
    json_object_object_add(m, "options", strv((const char *[]){"rbind", "ro", NULL}));
    return m;
}

/* A bundle: an empty rootfs with the host's /usr (merged /usr: /bin and /lib are links into it)
 * and the build tree bound read-only, so that the freshly built memhog runs in the container. */
typedef struct {
    char *dir, *state;
} Bundle;

static void bundle_make(Bundle *b, const ApiTest *t, const char *id, const char *const *args,
                        json_object *annotations, json_object *memory, const char *cgroups_path)
{
    b->dir = g_dir_make_tmp("memctl-oci-XXXXXX", NULL);
    b->state = g_build_filename(b->dir, "crun-state", NULL);
    g_autofree char *rootfs = g_build_filename(b->dir, "rootfs", NULL);
    const char *build = g_getenv("MEMCTL_BUILD_ROOT");
    g_assert_nonnull(build);
    g_autofree char *rbuild = g_build_filename(rootfs, build, NULL);
    g_assert_cmpint(g_mkdir_with_parents(rbuild, 0755), ==, 0);
    for (const char *const *d = (const char *[]){"usr", "proc", "dev", "sys", "tmp", NULL}; *d; d++) {
        g_autofree char *p = g_build_filename(rootfs, *d, NULL);
        g_assert_cmpint(g_mkdir_with_parents(p, 0755), ==, 0);
    }
    for (const char *const *l = (const char *[]){"bin", "sbin", "lib", "lib64", NULL}; *l; l++) {
        g_autofree char *host = g_build_filename("/", *l, NULL);
        g_autofree char *target = g_file_read_link(host, NULL);
        g_autofree char *p = g_build_filename(rootfs, *l, NULL);
        if (target)
            g_assert_no_errno(symlink(target, p));
    }

    g_autofree char *memctl = g_build_filename(build, "client", "memctl", NULL);
    g_autofree char *bus = g_strdup_printf("--bus-address=%s", t->bus.address);
    json_object *hooks = json_object_new_object();
    const char *stages[] = {"createRuntime", "poststop"};
    for (size_t i = 0; i < G_N_ELEMENTS(stages); i++) {
        json_object *h = json_object_new_object();
        json_object_object_add(h, "path", json_object_new_string(memctl));
        json_object_object_add(h, "args", strv((const char *[]){"memctl", bus, "oci-hook", stages[i], NULL}));
        json_object *list = json_object_new_array();
        json_object_array_add(list, h);
        json_object_object_add(hooks, stages[i], list);
    }

    json_object *process = json_object_new_object();
    json_object_object_add(process, "terminal", json_object_new_boolean(false));
    json_object *user = json_object_new_object();
    json_object_object_add(user, "uid", json_object_new_int(0));
    json_object_object_add(user, "gid", json_object_new_int(0));
    json_object_object_add(process, "user", user);
    json_object_object_add(process, "args", strv(args));
    json_object_object_add(process, "env", strv((const char *[]){"PATH=/usr/bin:/bin", NULL}));
    json_object_object_add(process, "cwd", json_object_new_string("/"));

    json_object *root = json_object_new_object();
    json_object_object_add(root, "path", json_object_new_string("rootfs"));
    json_object_object_add(root, "readonly", json_object_new_boolean(true));

    json_object *mounts = json_object_new_array();
    json_object *proc = json_object_new_object();
    json_object_object_add(proc, "destination", json_object_new_string("/proc"));
    json_object_object_add(proc, "type", json_object_new_string("proc"));
    json_object_object_add(proc, "source", json_object_new_string("proc"));
    json_object_array_add(mounts, proc);
    json_object *dev = json_object_new_object();
    json_object_object_add(dev, "destination", json_object_new_string("/dev"));
    json_object_object_add(dev, "type", json_object_new_string("tmpfs"));
    json_object_object_add(dev, "source", json_object_new_string("tmpfs"));
    json_object_object_add(dev, "options", strv((const char *[]){"nosuid", "mode=755", "size=1m", NULL}));
    json_object_array_add(mounts, dev);
    json_object_array_add(mounts, bind_mount("/usr"));
    json_object_array_add(mounts, bind_mount(build));

    json_object *linux_ = json_object_new_object();
    json_object_object_add(linux_, "cgroupsPath", json_object_new_string(cgroups_path));
    json_object *resources = json_object_new_object();
    if (memory)
        json_object_object_add(resources, "memory", memory);
    json_object_object_add(linux_, "resources", resources);
    json_object *ns = json_object_new_array();
    for (const char *const *n = (const char *[]){"pid", "mount", "ipc", "uts", NULL}; *n; n++) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "type", json_object_new_string(*n));
        json_object_array_add(ns, e);
    }
    json_object_object_add(linux_, "namespaces", ns);

    json_object *config = json_object_new_object();
    json_object_object_add(config, "ociVersion", json_object_new_string("1.0.2"));
    json_object_object_add(config, "process", process);
    json_object_object_add(config, "root", root);
    json_object_object_add(config, "hostname", json_object_new_string(id));
    json_object_object_add(config, "mounts", mounts);
    json_object_object_add(config, "hooks", hooks);
    /* crun keeps hooks' output to itself unless told where it goes */
    if (!annotations)
        annotations = json_object_new_object();
    g_autofree char *hooks_log = g_build_filename(b->dir, "hooks.log", NULL);
    json_object_object_add(annotations, "run.oci.hooks.stderr", json_object_new_string(hooks_log));
    json_object_object_add(config, "annotations", annotations);
    json_object_object_add(config, "linux", linux_);
    g_autofree char *path = g_build_filename(b->dir, "config.json", NULL);
    g_assert_cmpint(json_object_to_file_ext(path, config, JSON_C_TO_STRING_PRETTY), ==, 0);
    json_object_put(config);
}

/* crun run: its exit status; its stderr followed by the hooks' (run.oci.hooks.stderr). */
static int crun_run(const Bundle *b, const char *id, char **ret_stderr)
{
    g_autofree char *crun = g_find_program_in_path("crun");
    g_assert_nonnull(crun);
    const char *argv[] = {crun, "--root", b->state, "run", "--bundle", b->dir, id, NULL};
    int status = -1;
    g_autoptr(GError) err = NULL;
    g_autofree char *out = NULL;
    g_autofree char *errs = NULL, *hooks = NULL;
    g_assert_true(
            g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &errs, &status, &err));
    g_autofree char *hooks_log = g_build_filename(b->dir, "hooks.log", NULL);
    (void)g_file_get_contents(hooks_log, &hooks, NULL, NULL);
    *ret_stderr = g_strconcat(errs ? errs : "", hooks ? hooks : "", NULL);
    g_test_message("crun run %s: status %d; stderr and hooks: %s", id, status, *ret_stderr);
    return status;
}

static void bundle_remove(Bundle *b)
{
    cgtest_remove_tmpdir(b->dir);
    g_free(b->dir);
    g_free(b->state);
}

static bool have_crun(void)
{
    g_autofree char *crun = g_find_program_in_path("crun");
    if (!crun)
        g_test_skip("crun is not installed (scripts/setup installs Debian's crun)");
    return crun != NULL;
}

static const char *rel(const ApiTest *t)
{
    return t->root + strlen(cgtest_mount());
}

static void test_killed_in_container(void)
{
    if (!have_crun())
        return;
    ApiTest t;
    apitest_start(&t, "memctl-oci", NULL);
    Seen seen = {0};
    guint sub = g_dbus_connection_signal_subscribe(t.bus.conn, MEMCTL_BUS_NAME, MEMCTL_MANAGER_INTERFACE,
                                                   "Killed", MEMCTL_MANAGER_PATH, NULL,
                                                   G_DBUS_SIGNAL_FLAGS_NONE, on_killed, &seen, NULL);
    g_autofree char *hog = g_build_filename(g_getenv("MEMCTL_BUILD_ROOT"), "tests", "lib", "memhog", NULL);
    json_object *memory = json_object_new_object();
    json_object_object_add(memory, "limit", json_object_new_int64(48 * MiB));
    json_object_object_add(memory, "reservation", json_object_new_int64(8 * MiB));
    json_object *ann = json_object_new_object();
    json_object_object_add(ann, "org.memctl.priority", json_object_new_string("20"));
    json_object_object_add(ann, "org.memctl.slice", json_object_new_string("machines.slice/ctr-1.scope"));
    /* a kill verdict freezes the container and waits 1 s for hooks (there are none) */
    json_object_object_add(ann, "org.memctl.prekill-timeout", json_object_new_string("1s"));
    /* proactive reclaim on, at 0.5%: two more settings memctld takes */
    json_object_object_add(ann, "org.memctl.reclaim", json_object_new_string("auto"));
    json_object_object_add(ann, "org.memctl.reclaim-pressure", json_object_new_string("0.5%"));
    g_autofree char *cgpath = g_strdup_printf("%s/ctr-1", rel(&t));
    Bundle b;
    bundle_make(&b, &t, "ctr-1", (const char *[]){hog, "--step", "1M", "--total", "200M", NULL}, ann, memory,
                cgpath);
    uint64_t oom_before = cgtest_read_key("/proc", "vmstat", "oom_kill");

    g_autofree char *errs = NULL;
    int st = crun_run(&b, "ctr-1", &errs);
    /* the container's exit status: killed by SIGKILL */
    g_assert_true(WIFEXITED(st));
    g_assert_cmpint(WEXITSTATUS(st), ==, 128 + SIGKILL);
    /* by memctld, in the container's group, with the translated limit */
    g_assert_true(bustest_wait_flag(&seen.killed, 10000));
    g_assert_cmpstr(seen.group, ==, "ctr-1");
    g_autofree char *rec = daemontest_wait_record(&t.d, 5000, "\"type\":\"kill\"", "\"group\":\"ctr-1\"");
    g_assert_nonnull(rec);
    g_test_message("record: %s", rec);
    g_assert_nonnull(strstr(rec, "\"max\":50331648"));
    const char *waited = strstr(rec, "\"prekill_usec\":");
    g_assert_nonnull(waited);
    g_assert_cmpuint(g_ascii_strtoull(waited + strlen("\"prekill_usec\":"), NULL, 10), >=, 1000000);
    g_assert_nonnull(strstr(rec, "\"frozen\":true"));
    g_assert_cmpuint(cgtest_read_key("/proc", "vmstat", "oom_kill"), ==, oom_before);
    g_assert_nonnull(strstr(errs, "container ctr-1 is memctl group ctr-1 (7 setting(s))"));
    /* poststop: the group is gone, its final counters said */
    g_assert_nonnull(strstr(errs, "container ctr-1: group ctr-1 removed: "));
    g_assert_nonnull(strstr(errs, "memctld kills 1"));
    /* crun deleted the cgroup before poststop: the counters are those memctld read last (the
     * memory.high events of the throttled hog), not zeros */
    g_assert_null(strstr(errs, "high 0,"));
    g_assert_nonnull(strstr(errs, "kernel OOM kills 0"));
    g_autofree char *dir = g_build_filename(t.root, "ctr-1", NULL);
    g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
    g_free(apitest_cli_err(&t, 4, (const char *[]){"show", "ctr-1", NULL}));

    g_dbus_connection_signal_unsubscribe(t.bus.conn, sub);
    bundle_remove(&b);
    apitest_stop(&t);
}

/* A cgroup outside memctld's root: the container runs anyway, the hook says why it is not managed;
 * with org.memctl.required=true, the same container does not start. */
static void test_required(void)
{
    if (!have_crun())
        return;
    ApiTest t;
    apitest_start(&t, "memctl-oci-req", NULL);
    g_autofree char *outside = g_strdup_printf("/memctl-oci-outside.%d/ctr-2", (int)getpid());
    g_autofree char *true_bin = g_find_program_in_path("true");
    Bundle b;
    bundle_make(&b, &t, "ctr-2", (const char *[]){true_bin, NULL}, NULL, NULL, outside);
    g_autofree char *errs = NULL;
    int st = crun_run(&b, "ctr-2", &errs);
    g_assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    g_assert_nonnull(strstr(errs, "is outside memctld's managed root"));
    g_assert_nonnull(strstr(errs, "goes on without memctl"));
    bundle_remove(&b);

    json_object *ann = json_object_new_object();
    json_object_object_add(ann, "org.memctl.required", json_object_new_string("true"));
    bundle_make(&b, &t, "ctr-3", (const char *[]){true_bin, NULL}, ann, NULL, outside);
    g_autofree char *errs2 = NULL;
    st = crun_run(&b, "ctr-3", &errs2);
    g_assert_false(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    g_assert_nonnull(strstr(errs2, "is outside memctld's managed root"));
    bundle_remove(&b);
    g_autofree char *parent = g_strdup_printf("%s/memctl-oci-outside.%d", cgtest_mount(), (int)getpid());
    cgtest_remove_tree(parent);
    apitest_stop(&t);
}

/* The hook on its own, fed bad input: an error that names the field, and exit 0 unless required. */
/* tmpl with @ROOT@ and @BUNDLE@ replaced. */
static char *subst(const char *tmpl, const char *root, const char *bundle)
{
    g_auto(GStrv) a = g_strsplit(tmpl, "@ROOT@", -1);
    g_autofree char *s = g_strjoinv(root, a);
    g_auto(GStrv) b = g_strsplit(s, "@BUNDLE@", -1);
    return g_strjoinv(bundle, b);
}

/* Runs `memctl oci-hook STAGE` with config.json in dir and `state` on stdin; returns its stderr. */
static char *run_hook(ApiTest *t, const char *dir, const char *config, const char *state, const char *stage,
                      int want_status)
{
    g_autofree char *cfile = g_build_filename(dir, "config.json", NULL);
    g_autofree char *sfile = g_build_filename(dir, "state.json", NULL);
    g_assert_true(g_file_set_contents(cfile, config, -1, NULL));
    g_assert_true(g_file_set_contents(sfile, state, -1, NULL));
    g_autofree char *memctl = g_build_filename(g_getenv("MEMCTL_BUILD_ROOT"), "client", "memctl", NULL);
    g_autofree char *cmd =
            g_strdup_printf("MEMCTL_OCI_RUN_DIR='%s/run' '%s' '--bus-address=%s' oci-hook %s < '%s'", dir,
                            memctl, t->bus.address, stage, sfile);
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    g_autofree char *out = NULL;
    char *errs = NULL;
    int st = -1;
    g_assert_true(
            g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &errs, &st, NULL));
    g_test_message("%s: status %d: %s", *stage ? stage : "(stage from the state)", st, errs);
    g_assert_true(WIFEXITED(st));
    g_assert_cmpint(WEXITSTATUS(st), ==, want_status);
    return errs;
}

static void test_bad_input(void)
{
    ApiTest t;
    apitest_start(&t, "memctl-oci-bad", NULL);
    g_autofree char *dir = g_dir_make_tmp("memctl-oci-XXXXXX", NULL);
    const struct {
        const char *config, *state, *want;
        int status;
    } cases[] = {
            {"{}", "not json", "the state on stdin: line 1: not valid JSON", 0},
            /* what json-c would take silently: a key given twice, a NUL in a string */
            {"{\"annotations\": {\"org.memctl.required\": \"true\"}, \"linux\": {}, \"linux\": "
             "{\"cgroupsPath\": "
             "\"@ROOT@/c\"}}",
             "{\"id\": \"c\", \"status\": \"creating\", \"bundle\": \"@BUNDLE@\"}",
             "linux: line 1: the key is given twice", 0}, /* an unreadable config cannot say "required" */
            {"{}", "{\"id\": \"c\\u0000x\", \"status\": \"creating\", \"bundle\": \"/\"}",
             "id: line 1: \"\\u0000\"", 0},
            {"{}", "{\"status\": \"creating\", \"bundle\": \"/\"}", "\"id\" is missing", 0},
            {"[1]", "{\"id\": \"c\", \"status\": \"creating\", \"bundle\": \"@BUNDLE@\"}",
             "expected an object", 0},
            {"{\"annotations\": {\"org.memctl.required\": \"true\"}, \"linux\": {\"cgroupsPath\": "
             "\"@ROOT@/c\", "
             "\"resources\": {\"memory\": {\"limit\": 1048576, \"swap\": 1024}}}}",
             "{\"id\": \"c\", \"status\": \"creating\", \"bundle\": \"@BUNDLE@\"}",
             "linux.resources.memory.swap", 1},
            {"{\"linux\": {\"cgroupsPath\": \"@ROOT@/c\", \"resources\": {\"memory\": {\"limit\": \"1G\"}}}}",
             "{\"id\": \"c\", \"status\": \"creating\", \"bundle\": \"@BUNDLE@\"}",
             "linux.resources.memory.limit: expected an integer", 0},
            {"{\"annotations\": {\"org.memctl.required\": \"true\", \"org.memctl.oom-group\": \"yes\"}, "
             "\"linux\": {\"cgroupsPath\": \"@ROOT@/c\"}}",
             "{\"id\": \"c\", \"status\": \"creating\", \"bundle\": \"@BUNDLE@\"}",
             "org.memctl.oom-group: 'yes'", 1},
            /* passed on as a key: memctld refuses the value and names the key */
            {"{\"annotations\": {\"org.memctl.required\": \"true\", \"org.memctl.reclaim\": \"sometimes\"}, "
             "\"linux\": {\"cgroupsPath\": \"@ROOT@/c\"}}",
             "{\"id\": \"c\", \"status\": \"creating\", \"bundle\": \"@BUNDLE@\"}",
             "limits key 'reclaim': malformed value", 1},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *ctext = subst(cases[i].config, rel(&t), dir);
        g_autofree char *stext = subst(cases[i].state, rel(&t), dir);
        g_autofree char *errs = run_hook(&t, dir, ctext, stext, "", cases[i].status);
        g_assert_nonnull(strstr(errs, cases[i].want));
    }
    /* nothing was created on the way */
    g_autofree char *c = g_build_filename(t.root, "c", NULL);
    g_assert_false(g_file_test(c, G_FILE_TEST_EXISTS));
    cgtest_remove_tmpdir(dir);
    apitest_stop(&t);
}

/*
 * org.memctl.critical=true is a pod author's word: memctld grants it only to groups its policy's
 * daemon.critical_claims names (by name or slice). A claim it refuses is named and the container
 * runs unprotected; an allowed one is a registration with its reserve, gone after poststop.
 */
static void test_critical_claim(void)
{
    g_autofree char *dir = g_dir_make_tmp("memctl-oci-XXXXXX", NULL);
    g_autofree char *conf = g_build_filename(dir, "memctld.json", NULL);
    g_assert_true(g_file_set_contents(conf, "{\"daemon\": {\"critical_claims\": [\"ctr-db*\"]}}", -1, NULL));
    g_autofree char *a_conf = g_strdup_printf("--config=%s", conf);
    ApiTest t;
    apitest_start(&t, "memctl-oci-claim", (const char *[]){a_conf, "--reserve=32M", NULL});
    static const char *const ids[] = {"ctr-db1", "ctr-web"};
    for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
        g_autofree char *config = g_strdup_printf(
                "{\"annotations\": {\"org.memctl.critical\": \"true\", \"org.memctl.reserve\": \"8M\"}, "
                "\"linux\": "
                "{\"cgroupsPath\": \"%s/%s\", \"resources\": {\"memory\": {\"limit\": 67108864}}}}",
                rel(&t), ids[i]);
        g_autofree char *state = g_strdup_printf(
                "{\"id\": \"%s\", \"status\": \"creating\", \"bundle\": \"%s\"}", ids[i], dir);
        g_autofree char *errs = run_hook(&t, dir, config, state, "createRuntime", 0);
        g_autoptr(GError) err = NULL;
        g_autoptr(GVariant) list = bustest_call(&t.bus, "ListCritical", NULL, &err);
        g_assert_no_error(err);
        g_autofree char *text = g_variant_print(list, FALSE);
        g_autofree char *grp = g_build_filename(t.root, ids[i], NULL);
        g_assert_true(g_file_test(grp, G_FILE_TEST_IS_DIR)); /* managed either way */
        if (i == 0) {
            g_assert_nonnull(strstr(errs, ", critical"));
            g_assert_nonnull(strstr(text, "('ctr-db1', 0, 8388608,"));
        } else {
            g_assert_nonnull(strstr(errs, "may not claim critical status"));
            g_assert_nonnull(strstr(errs, "daemon.critical_claims"));
            g_assert_null(strstr(text, "ctr-web"));
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
        g_autofree char *config =
                g_strdup_printf("{\"linux\": {\"cgroupsPath\": \"%s/%s\"}}", rel(&t), ids[i]);
        g_autofree char *state =
                g_strdup_printf("{\"id\": \"%s\", \"status\": \"stopped\", \"bundle\": \"%s\"}", ids[i], dir);
        g_free(run_hook(&t, dir, config, state, "poststop", 0));
    }
    g_autoptr(GError) err = NULL;
    g_autoptr(GVariant) list = bustest_call(&t.bus, "ListCritical", NULL, &err);
    g_assert_no_error(err);
    g_autoptr(GVariant) arr = g_variant_get_child_value(list, 0);
    g_assert_cmpuint(g_variant_n_children(arr), ==, 0);
    cgtest_remove_tmpdir(dir);
    apitest_stop(&t);
}

/*
 * A runtime that gives no linux.cgroupsPath (or a relative one) but has put the container's
 * process in its cgroup: the hook finds the cgroup in /proc/<pid>/cgroup (the state's pid) and
 * manages it with the config's limit; poststop, when the pid is gone, finds the group in the
 * hook's note (MEMCTL_OCI_RUN_DIR) and removes both.
 */
static void test_pid_cgroup(void)
{
    ApiTest t;
    apitest_start(&t, "memctl-oci-pid", NULL);
    g_autofree char *dir = g_dir_make_tmp("memctl-oci-XXXXXX", NULL);
    g_autofree char *ctr = cgtest_mkdir(t.root, "ctr-pid");
    Hog init;
    hog_start(&init, (const char *[]){"--cgroup", ctr, "--total", "1M", "--hold", NULL});
    g_assert_true(hog_wait_line(&init, "grown", 30000));
    const char *config = "{\"linux\": {\"resources\": {\"memory\": {\"limit\": 67108864}}}}";
    g_autofree char *state = g_strdup_printf(
            "{\"ociVersion\": \"1.0.2\", \"id\": \"ctr-pid\", \"status\": \"creating\", \"pid\": %d, "
            "\"bundle\": \"%s\"}",
            (int)init.pid, dir);
    g_autofree char *e1 = run_hook(&t, dir, config, state, "createRuntime", 0);
    g_assert_nonnull(strstr(e1, "container ctr-pid is memctl group ctr-pid"));
    g_assert_cmpuint(cgtest_read_u64(ctr, "memory.max"), ==, 64 * 1024 * 1024);
    g_autofree char *show = apitest_cli(&t, 0, (const char *[]){"show", "ctr-pid", NULL});
    g_assert_nonnull(strstr(show, "MemoryMax=64.0M"));
    g_autofree char *note = g_build_filename(dir, "run", "ctr-pid", NULL), *noted = NULL;
    g_assert_true(g_file_get_contents(note, &noted, NULL, NULL));
    g_assert_cmpstr(noted, ==, "ctr-pid");
    (void)hog_kill(&init);
    g_autofree char *stopped = g_strdup_printf(
            "{\"ociVersion\": \"1.0.2\", \"id\": \"ctr-pid\", \"status\": \"stopped\", \"bundle\": \"%s\"}",
            dir);
    g_autofree char *e2 = run_hook(&t, dir, config, stopped, "poststop", 0);
    g_assert_nonnull(strstr(e2, "group ctr-pid removed"));
    g_assert_false(g_file_test(ctr, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(note, G_FILE_TEST_EXISTS));
    cgtest_remove_tmpdir(dir);
    apitest_stop(&t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    cgtest_require_cgroup2();
    g_test_add_func("/oci/killed-in-container", test_killed_in_container);
    g_test_add_func("/oci/required", test_required);
    g_test_add_func("/oci/bad-input", test_bad_input);
    g_test_add_func("/oci/pid-cgroup", test_pid_cgroup);
    g_test_add_func("/oci/critical-claim", test_critical_claim);
    return g_test_run();
}
