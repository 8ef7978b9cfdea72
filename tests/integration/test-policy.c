/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Policy files on the real kernel with a private bus: groups declared in files are created, a reload
 * applies only the differences (no group recreated, no unchanged file written: watched with
 * inotify), a broken drop-in leaves everything as it was and is reported with its file and JSON
 * path, the state file brings back groups created over D-Bus and critical registrations after a
 * restart, and a prefer list by cgroup picks the victim.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "include/memctl/memctl.h"
#include "tests/lib/bustest.h"
#include "tests/lib/cgtest.h"

#define MiB ((uint64_t)1024 * 1024)

static void write_file(const char *dir, const char *name, const char *text)
{
    g_autofree char *p = g_build_filename(dir, name, NULL);
    g_autoptr(GError) err = NULL;
    g_assert_true(g_file_set_contents(p, text, -1, &err));
}

static uint64_t read_u64(const char *root, const char *group, const char *file)
{
    g_autofree char *dir = g_build_filename(root, group, NULL);
    return cgtest_read_u64(dir, file);
}

static ino_t inode_of(const char *root, const char *group)
{
    g_autofree char *dir = g_build_filename(root, group, NULL);
    struct stat st;
    g_assert_no_errno(stat(dir, &st));
    return st.st_ino;
}

static int watch(int ifd, const char *root, const char *group, const char *file)
{
    g_autofree char *p = g_build_filename(root, group, file, NULL);
    int wd = inotify_add_watch(ifd, p, IN_MODIFY);
    g_assert_cmpint(wd, >=, 0);
    return wd;
}

/* Calls ReloadPolicy; returns the changes joined by '\n', or NULL with *error set. */
static char *reload(ApiTest *t, GError **error)
{
    g_autoptr(GVariant) r = bustest_call(&t->bus, "ReloadPolicy", NULL, error);
    if (!r)
        return NULL;
    g_autofree const char **changes = NULL;
    g_variant_get(r, "(^a&s)", &changes);
    return g_strjoinv("\n", (char **)changes);
}

static void test_apply_and_reload(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("memctl-policy-XXXXXX", &err);
    g_autofree char *dropins = g_build_filename(dir, "policy.d", NULL);
    g_assert_no_errno(mkdir(dropins, 0755));
    write_file(dir, "memctld.json",
               "{\"groups\": {\"web\": {\"limit\": \"128M\", \"low\": \"16M\", \"priority\": 70},"
               " \"batch\": {\"limit\": \"64M\", \"priority\": 10}}}");
    write_file(dropins, "10-workers.json", "{\"groups\": {\"web/workers\": {\"max\": \"100M\"}}}");
    g_autofree char *a_config = g_strdup_printf("--config=%s/memctld.json", dir);
    g_autofree char *a_dir = g_strdup_printf("--config-dir=%s", dropins);

    ApiTest t;
    apitest_start(&t, "memctl-policy", (const char *[]){a_config, a_dir, NULL});
    /* declared groups exist with their limits */
    g_assert_cmpuint(read_u64(t.root, "web", "memory.max"), ==, 128 * MiB);
    g_assert_cmpuint(read_u64(t.root, "web", "memory.high"), ==, (128 * MiB - 128 * MiB / 20) / 4096 * 4096);
    g_assert_cmpuint(read_u64(t.root, "web", "memory.low"), ==, 16 * MiB);
    g_assert_cmpuint(read_u64(t.root, "batch", "memory.max"), ==, 64 * MiB);
    g_assert_cmpuint(read_u64(t.root, "web/workers", "memory.max"), ==, 100 * MiB);

    ino_t web_ino = inode_of(t.root, "web"), batch_ino = inode_of(t.root, "batch");
    int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    g_assert_cmpint(ifd, >=, 0);
    watch(ifd, t.root, "web", "memory.max");
    watch(ifd, t.root, "web", "memory.high");
    watch(ifd, t.root, "batch", "memory.max");
    watch(ifd, t.root, "web/workers", "memory.max");
    int wd_low = watch(ifd, t.root, "web", "memory.low");

    /* A valid change: web's low goes up, a group appears. Only those are written. */
    write_file(dropins, "20-change.json",
               "{\"groups\": {\"web\": {\"low\": \"32M\"}, \"new\": {\"limit\": \"32M\"}}}");
    g_autofree char *changes = reload(&t, &err);
    g_assert_no_error(err);
    g_test_message("reload: %s", changes);
    g_assert_nonnull(strstr(changes, "web: low"));
    g_assert_nonnull(strstr(changes, "created new"));
    g_assert_null(strstr(changes, "batch"));
    g_assert_cmpuint(read_u64(t.root, "web", "memory.low"), ==, 32 * MiB);
    g_assert_cmpuint(read_u64(t.root, "new", "memory.max"), ==, 32 * MiB);
    g_assert_cmpuint(inode_of(t.root, "web"), ==, web_ino); /* not recreated */
    g_assert_cmpuint(inode_of(t.root, "batch"), ==, batch_ino);
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n = read(ifd, buf, sizeof(buf));
    g_assert_cmpint(n, >, 0);
    for (char *p = buf; p < buf + n;) {
        struct inotify_event *ev = (struct inotify_event *)p;
        if (ev->wd != wd_low)
            g_error("a file whose value did not change was written (watch %d)", ev->wd);
        p += sizeof(*ev) + ev->len;
    }

    /* A broken drop-in: nothing changes, the error names the file and the JSON path. */
    write_file(dropins, "30-bad.json", "{\"groups\": {\"web\": {\"low\": \"lots\"}, \"new2\": {}}}");
    g_autofree char *none = reload(&t, &err);
    g_assert_null(none);
    g_assert_nonnull(err);
    g_test_message("broken: %s", err->message);
    g_assert_nonnull(strstr(err->message, "org.memctl.Error.InvalidPolicy"));
    g_assert_nonnull(strstr(err->message, "30-bad.json: groups.web.low: 'lots' is not a size"));
    g_clear_error(&err);
    g_assert_cmpuint(read_u64(t.root, "web", "memory.low"), ==, 32 * MiB);
    g_autofree char *new2 = g_build_filename(t.root, "new2", NULL);
    g_assert_false(g_file_test(new2, G_FILE_TEST_EXISTS));
    /* the same through SIGHUP: reported in the log, memctld goes on */
    g_assert_no_errno(kill(t.d.pid, SIGHUP));
    g_usleep(500 * 1000);
    g_autofree char *log = NULL;
    g_assert_true(g_file_get_contents(t.d.log, &log, NULL, NULL));
    g_assert_nonnull(strstr(log, "reload failed, the running policy stays"));
    g_assert_nonnull(strstr(log, "30-bad.json: groups.web.low"));
    g_assert_false(g_file_test(new2, G_FILE_TEST_EXISTS));
    g_assert_cmpint(kill(t.d.pid, 0), ==, 0);
    /* a policy the files allow but the groups refuse half-way (batch's low is written, then a group
     * whose parent does not exist fails): what was written is put back */
    write_file(dropins, "30-bad.json", "{\"groups\": {\"batch\": {\"low\": \"8M\"}, \"ghost/child\": {}}}");
    g_assert_null(reload(&t, &err));
    g_assert_nonnull(err);
    g_test_message("refused: %s", err->message);
    g_assert_nonnull(
            strstr(err->message,
                   "30-bad.json: groups.ghost/child: parent group 'ghost' of 'ghost/child' does not exist"));
    g_clear_error(&err);
    g_assert_cmpuint(read_u64(t.root, "batch", "memory.low"), ==, 0);
    /* and a conflict only the merge shows: the children's min above web's */
    write_file(dropins, "30-bad.json",
               "{\"groups\": {\"web\": {\"min\": \"1M\"}, \"web/workers\": {\"min\": \"2M\"}}}");
    g_assert_null(reload(&t, &err));
    g_assert_nonnull(strstr(err->message, "30-bad.json: groups.web/workers.min: the children's min add up"));
    g_clear_error(&err);
    g_assert_cmpuint(read_u64(t.root, "web", "memory.min"), ==, 0);

    /* Keys a file no longer gives go back: web's low to memctld.json's 16M. */
    g_autofree char *bad = g_build_filename(dropins, "30-bad.json", NULL);
    g_assert_no_errno(unlink(bad));
    write_file(dropins, "20-change.json", "{\"groups\": {\"new\": {\"limit\": \"32M\"}}}");
    g_autofree char *back = reload(&t, &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(back, "web: low"));
    g_assert_cmpuint(read_u64(t.root, "web", "memory.low"), ==, 16 * MiB);
    g_assert_cmpuint(inode_of(t.root, "web"), ==, web_ino);
    close(ifd);
    apitest_stop(&t);
    cgtest_remove_tmpdir(dir);
}

static void test_state_survives_restart(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("memctl-state-XXXXXX", &err);
    g_autofree char *state = g_build_filename(dir, "state.json", NULL);
    g_autofree char *a_state = g_strdup_printf("--state-file=%s", state);
    g_autofree char *a_bus = NULL;

    ApiTest t;
    apitest_start(&t, "memctl-state", (const char *[]){a_state, NULL});
    a_bus = g_strdup_printf("--bus-address=%s", t.bus.address);
    g_free(apitest_cli(&t, 0, (const char *[]){"create", "dyn", "--limit", "64M", NULL}));
    g_free(apitest_cli(&t, 0, (const char *[]){"set", "dyn", "priority=20", "min=4M", NULL}));
    g_free(apitest_cli(&t, 0, (const char *[]){"create", "dyn/leaf", NULL}));
    g_free(apitest_cli(&t, 0, (const char *[]){"reserve", "register", "dyn", "0", NULL}));
    daemontest_stop(&t.d);

    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(state, &text, NULL, NULL));
    g_test_message("state: %s", text);
    json_object *j = json_tokener_parse(text);
    g_assert_nonnull(j);
    json_object *groups, *dyn, *v, *crit;
    g_assert_true(json_object_object_get_ex(j, "groups", &groups));
    g_assert_true(json_object_object_get_ex(groups, "dyn", &dyn));
    g_assert_true(json_object_object_get_ex(dyn, "limit", &v));
    g_assert_cmpuint(json_object_get_uint64(v), ==, 64 * MiB);
    g_assert_true(json_object_object_get_ex(dyn, "priority", &v));
    g_assert_cmpint(json_object_get_int(v), ==, 20);
    g_assert_true(json_object_object_get_ex(j, "critical", &crit));
    g_assert_cmpuint(json_object_array_length(crit), ==, 1);
    json_object_put(j);

    /* The machine "reboots": the cgroups are gone. memctld brings them back from the state file. */
    cgtest_remove_tree(t.root);
    daemontest_start(&t.d, t.root, (const char *[]){a_bus, a_state, NULL});
    bustest_wait_name(&t.bus, MEMCTL_BUS_NAME, 5000);
    g_assert_cmpuint(read_u64(t.root, "dyn", "memory.max"), ==, 64 * MiB);
    g_assert_cmpuint(read_u64(t.root, "dyn", "memory.high"), ==, (64 * MiB - 64 * MiB / 20) / 4096 * 4096);
    g_assert_cmpuint(read_u64(t.root, "dyn", "memory.min"), ==, 4 * MiB);
    g_autofree char *leaf = g_build_filename(t.root, "dyn", "leaf", NULL);
    g_assert_true(g_file_test(leaf, G_FILE_TEST_IS_DIR));
    g_autofree char *show = apitest_cli(&t, 0, (const char *[]){"show", "dyn", "--json", NULL});
    json_object *sj = json_tokener_parse(show);
    g_assert_true(json_object_object_get_ex(sj, "Priority", &v));
    g_assert_cmpint(json_object_get_int(v), ==, 20);
    json_object_put(sj);
    g_autofree char *list = apitest_cli(&t, 0, (const char *[]){"reserve", "list", NULL});
    g_assert_nonnull(strstr(list, "dyn"));
    /* removed over D-Bus: gone from the state file too */
    g_free(apitest_cli(&t, 0, (const char *[]){"reserve", "unregister", "dyn", NULL}));
    g_free(apitest_cli(&t, 0, (const char *[]){"remove", "dyn/leaf", NULL}));
    daemontest_stop(&t.d);
    g_free(g_steal_pointer(&text));
    g_assert_true(g_file_get_contents(state, &text, NULL, NULL));
    g_assert_null(strstr(text, "dyn/leaf"));
    g_assert_null(strstr(text, "\"group\""));
    bustest_stop(&t.bus);
    cgtest_remove_tree(t.root);
    g_free(t.root);
    cgtest_remove_tmpdir(dir);
}

/* The start time of pid (/proc/<pid>/stat field 22). */
static uint64_t start_time_of(int pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", pid);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_auto(GStrv) f = g_strsplit(strrchr(text, ')') + 2, " ", -1);
    g_assert_cmpuint(g_strv_length(f), >, 19);
    return g_ascii_strtoull(f[19], NULL, 10); /* field 22, counted from field 3 */
}

/*
 * One bad entry of the state file loses nothing else: the valid groups and registrations come
 * back (a critical process too, if it is still the same process), the bad ones are named, the file
 * as it was is kept as state.json.bad, and the next save keeps what was restored. Process
 * registrations survive a restart while their process runs.
 */
static void test_state_bad_entry(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("memctl-badstate-XXXXXX", &err);
    g_autofree char *state = g_build_filename(dir, "state.json", NULL);
    g_autofree char *bad = g_build_filename(dir, "state.json.bad", NULL);
    g_autofree char *a_state = g_strdup_printf("--state-file=%s", state);
    Hog proc, other;
    hog_start(&proc, (const char *[]){"--total", "1M", "--hold", NULL});
    hog_start(&other, (const char *[]){"--total", "1M", "--hold", NULL});
    g_assert_true(hog_wait_line(&proc, "grown", 10000));
    g_assert_true(hog_wait_line(&other, "grown", 10000));
    uint64_t start = start_time_of((int)proc.pid), other_start = start_time_of((int)other.pid);
    g_autofree char *text = g_strdup_printf(
            "{\"version\": 1, \"groups\": {\"bad\": {\"limit\": \"lots\"}, \"keep\": {\"limit\": \"64M\"}},\n"
            " \"critical\": [{\"group\": \"nosuch\", \"bytes\": 0}, {\"group\": \"keep\", \"bytes\": 0},\n"
            "  {\"pid\": %d, \"start_time\": %" G_GUINT64_FORMAT ", \"bytes\": 0},\n"
            "  {\"pid\": %d, \"start_time\": %" G_GUINT64_FORMAT ", \"bytes\": 0}]}\n",
            (int)proc.pid, start, (int)other.pid, other_start + 1); /* other: as if its pid were reused */
    g_assert_true(g_file_set_contents(state, text, -1, NULL));

    ApiTest t;
    apitest_start(&t, "memctl-badstate", (const char *[]){a_state, NULL});
    g_assert_cmpuint(read_u64(t.root, "keep", "memory.max"), ==, 64 * MiB);
    g_autofree char *log = NULL;
    g_assert_true(g_file_get_contents(t.d.log, &log, NULL, NULL));
    g_test_message("%s", log);
    g_assert_nonnull(strstr(log, "groups.bad.limit"));
    g_assert_nonnull(strstr(log, "critical[0] (group nosuch)"));
    g_assert_nonnull(strstr(log, "critical[3] (pid"));
    g_assert_nonnull(strstr(log, "not the process registered before"));
    g_autofree char *kept = NULL;
    g_assert_true(g_file_get_contents(bad, &kept, NULL, NULL));
    g_assert_cmpstr(kept, ==, text);
    g_autofree char *list = apitest_cli(&t, 0, (const char *[]){"reserve", "list", "--json", NULL});
    g_test_message("registrations: %s", list);
    g_assert_nonnull(strstr(list, "\"keep\""));
    g_autofree char *pid_json = g_strdup_printf("\"pid\":%d", (int)proc.pid);
    g_assert_nonnull(strstr(list, pid_json));
    daemontest_stop(&t.d);

    /* the next save keeps what was restored, and a restart (the process still running) finds it all */
    g_autofree char *saved = NULL;
    g_assert_true(g_file_get_contents(state, &saved, NULL, NULL));
    g_assert_null(strstr(saved, "\"bad\""));
    g_assert_null(strstr(saved, "nosuch"));
    g_autofree char *a_bus = g_strdup_printf("--bus-address=%s", t.bus.address);
    daemontest_start(&t.d, t.root, (const char *[]){a_bus, a_state, NULL});
    bustest_wait_name(&t.bus, MEMCTL_BUS_NAME, 5000);
    g_autofree char *list2 = apitest_cli(&t, 0, (const char *[]){"reserve", "list", "--json", NULL});
    g_assert_nonnull(strstr(list2, "\"keep\""));
    g_assert_nonnull(strstr(list2, pid_json));
    g_autofree char *log2 = NULL;
    g_assert_true(g_file_get_contents(t.d.log, &log2, NULL, NULL));
    g_assert_null(strstr(log2, "state file"));
    g_autofree char *other_json = g_strdup_printf("\"pid\":%d", (int)other.pid);
    g_assert_null(strstr(list2, other_json));
    (void)hog_kill(&proc);
    (void)hog_kill(&other);
    apitest_stop(&t);
    cgtest_remove_tmpdir(dir);
}

/* A prefer list by cgroup: the smaller process in the preferred child goes first. */
static void test_prefer_cgroup(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("memctl-prefer-XXXXXX", &err);
    write_file(dir, "memctld.json",
               "{\"groups\": {\"g\": {\"limit\": \"96M\", \"prefer\": {\"cgroup\": [\"batch\"]}},"
               " \"g/a\": {}, \"g/batch\": {}}}");
    g_autofree char *a_config = g_strdup_printf("--config=%s/memctld.json", dir);
    ApiTest t;
    apitest_start(&t, "memctl-prefer", (const char *[]){a_config, NULL});
    g_autofree char *ga = g_build_filename(t.root, "g", "a", NULL);
    g_autofree char *gb = g_build_filename(t.root, "g", "batch", NULL);
    Hog big, small, grow;
    hog_start(&big, (const char *[]){"--cgroup", ga, "--total", "48M", "--hold", NULL});
    g_assert_true(hog_wait_line(&big, "grown", 30000));
    hog_start(&small, (const char *[]){"--cgroup", gb, "--total", "16M", "--hold", NULL});
    g_assert_true(hog_wait_line(&small, "grown", 30000));
    hog_start(&grow, (const char *[]){"--cgroup", ga, "--total", "30M", "--step", "1M", "--interval-ms", "5",
                                      "--hold", NULL});
    g_autofree char *pid = g_strdup_printf("\"pid\":%d", (int)small.pid);
    g_autofree char *rec = daemontest_wait_record(&t.d, 30000, "\"type\":\"kill\"", "\"group\":\"g\"");
    g_assert_nonnull(rec);
    g_test_message("record: %s", rec);
    g_assert_nonnull(strstr(rec, pid));
    g_assert_cmpint(hog_wait(&small, 5000), !=, -1);
    g_assert_true(hog_alive(&big));
    g_assert_true(hog_wait_line(&grow, "grown", 30000));
    g_assert_true(hog_alive(&big));
    hog_kill(&big);
    hog_kill(&grow);
    apitest_stop(&t);
    cgtest_remove_tmpdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    cgtest_require_cgroup2();
    g_test_add_func("/policy/apply-and-reload", test_apply_and_reload);
    g_test_add_func("/policy/state-restart", test_state_survives_restart);
    g_test_add_func("/policy/state-bad-entry", test_state_bad_entry);
    g_test_add_func("/policy/prefer-cgroup", test_prefer_cgroup);
    return g_test_run();
}
