/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libmemctl, the client library runtimes link, on the real kernel and a private bus: a runtime's
 * life cycle with Killed and PressureAlert signals from a real hog; authorization (an unprivileged
 * caller is refused and nothing changes, an admin-group member is not); `memctl kills --follow`
 * seeing a kill within 100 ms; and client/examples/run-in-group.c, the example runtimes copy.
 */
#include <errno.h>
#include <grp.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "include/memctl/client.h"
#include "include/memctl/memctl.h"
#include "tests/lib/bustest.h"
#include "tests/lib/cgtest.h"

#define MiB ((uint64_t)1024 * 1024)

typedef struct {
    guint killed, alerts_high;
    char group[256], reason[32], comm[32];
    uint32_t pid;
    uint64_t freed;
    bool alert_before_kill;
} Seen;

static void on_killed(const char *group, uint32_t pid, const char *comm, const char *reason, uint64_t freed,
                      uint64_t latency, void *userdata)
{
    Seen *s = userdata;
    s->killed++;
    g_strlcpy(s->group, group, sizeof(s->group));
    g_strlcpy(s->reason, reason, sizeof(s->reason));
    g_strlcpy(s->comm, comm, sizeof(s->comm));
    s->pid = pid;
    s->freed = freed;
}

static void on_alert(const char *group, const char *level, void *userdata)
{
    Seen *s = userdata;
    g_test_message("PressureAlert %s %s", group, level);
    if (strcmp(level, "high") == 0 && strcmp(group, "ctr") == 0) {
        s->alerts_high++;
        if (s->killed == 0)
            s->alert_before_kill = true;
    }
}

static void test_library(void)
{
    ApiTest t;
    apitest_start(&t, "memctl-lib", NULL);
    MemctlClient *c = NULL;
    g_assert_cmpint(memctl_client_open(t.bus.address, &c), ==, 0);

    /* a runtime's container: limit plus a raw unified file, as an OCI spec carries them */
    MemctlSetting s[] = {{"limit", "64M"}, {"memory.swap.max", "0"}, {"priority", "20"}};
    char *path = NULL;
    g_assert_cmpint(memctl_client_create_group(c, "ctr", s, G_N_ELEMENTS(s), &path), ==, 0);
    g_assert_cmpstr(path, ==, MEMCTL_GROUP_PATH_PREFIX "ctr");
    free(path);
    MemctlGroupInfo g;
    g_assert_cmpint(memctl_client_get_group(c, "ctr", &g), ==, 0);
    g_assert_cmpuint(g.max, ==, 64 * MiB);
    g_assert_cmpuint(g.swap_max, ==, 0);
    g_assert_cmpuint(g.priority, ==, 20);
    g_autofree char *dir = g_strdup(g.cgroup_path);
    memctl_group_info_clear(&g);
    MemctlSetting upd[] = {{"priority", "5"}};
    g_assert_cmpint(memctl_client_set_limits(c, "ctr", upd, 1), ==, 0);
    g_assert_cmpint(memctl_client_get_group(c, "ctr", &g), ==, 0);
    g_assert_cmpuint(g.priority, ==, 5);
    g_assert_cmpuint(g.max, ==, 64 * MiB); /* untouched keys stay */
    memctl_group_info_clear(&g);

    /* errors map to -errno with the daemon's message */
    g_assert_cmpint(memctl_client_get_group(c, "nosuch", &g), ==, -ENOENT);
    g_assert_cmpstr(memctl_client_error_name(c), ==, MEMCTL_DBUS_ERROR_NO_SUCH_GROUP);
    MemctlSetting bad[] = {{"limit", "lots"}};
    g_assert_cmpint(memctl_client_set_limits(c, "ctr", bad, 1), ==, -EINVAL);
    g_assert_nonnull(strstr(memctl_client_error_message(c), "limit"));
    g_assert_cmpint(memctl_client_create_group(c, "../x", NULL, 0, NULL), ==, -EINVAL);

    /* the runtime follows kills: a hog in the container is killed by memctld, alerted first */
    Seen seen = {0};
    g_assert_cmpint(memctl_client_subscribe(c, on_killed, on_alert, &seen), ==, 0);
    for (guint it = 0; it < cgtest_iterations(); it++) {
        guint before = seen.killed;
        Hog h;
        const char *args[] = {"--cgroup", dir, "--step", "1M", NULL};
        hog_start(&h, args);
        uint32_t hog_pid = (uint32_t)h.pid;
        gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
        while (seen.killed == before && g_get_monotonic_time() < deadline)
            g_assert_cmpint(memctl_client_wait(c, 1000000), >=, 0);
        g_assert_cmpuint(seen.killed, ==, before + 1);
        int st = hog_wait(&h, 10000);
        g_assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        g_assert_cmpstr(seen.group, ==, "ctr");
        g_assert_cmpuint(seen.pid, ==, hog_pid);
        g_assert_cmpstr(seen.comm, ==, "memhog");
        g_autofree char *needle = g_strdup_printf("\"pid\":%u,", hog_pid);
        g_autofree char *rec = daemontest_wait_record(&t.d, 5000, needle, "\"type\":\"kill\"");
        g_test_message("kill %u: %" G_GUINT64_FORMAT " bytes freed; record %s", it, seen.freed, rec);
        if (seen.freed <= 32 * MiB)
            g_error("the kill freed %" G_GUINT64_FORMAT " bytes of a hog above 60M: %s", seen.freed, rec);
    }
    g_assert_true(seen.alert_before_kill);
    g_assert_cmpuint(seen.alerts_high, >=, 1);
    MemctlKill *k = NULL;
    size_t n = 0;
    uint64_t last = 0;
    g_assert_cmpint(memctl_client_list_kills(c, 0, &k, &n, &last), ==, (int)cgtest_iterations());
    g_assert_cmpuint(last, ==, k[n - 1].seq);
    g_assert_cmpstr(k[0].by, ==, "memctld");
    g_assert_cmpuint(k[0].pid, >, 0);
    g_assert_cmpuint(k[0].bytes_freed, >, 0);
    memctl_kill_free_array(k, n);
    g_assert_cmpint(memctl_client_list_kills(c, last, &k, &n, &last), ==, 0);
    memctl_kill_free_array(k, n);

    MemctlStatus st;
    g_assert_cmpint(memctl_client_get_status(c, &st), ==, 0);
    g_assert_cmpuint(st.kills, ==, cgtest_iterations());
    g_assert_true(st.core_alive);
    g_assert_cmpuint(st.memory_total, >, 0);
    memctl_status_clear(&st);

    MemctlFinal fin;
    g_assert_cmpint(memctl_client_remove_group(c, "ctr", 0, &fin), ==, 0);
    g_assert_cmpuint(fin.kills, ==, cgtest_iterations());
    g_assert_cmpuint(fin.oom_kill, ==, 0); /* every kill was memctld's */
    g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
    memctl_client_free(c);
    apitest_stop(&t);
}

typedef struct {
    guint kernel;
    uint32_t pid;
    uint64_t freed;
} KernelSeen;

static void on_kernel_killed(const char *group, uint32_t pid, const char *comm, const char *reason,
                             uint64_t freed, uint64_t latency, void *userdata)
{
    KernelSeen *k = userdata;
    if (strcmp(reason, "kernel") == 0 && strcmp(group, "bare") == 0) {
        k->kernel++;
        k->pid = pid;
        k->freed = freed;
    }
}

/* A group with only a hard limit: memctld does not decide for it, the kernel's OOM killer does, and
 * the kill still reaches the API (Killed with pid 0, reason kernel; the record; the property). */
static void test_kernel_kill(void)
{
    ApiTest t;
    apitest_start(&t, "memctl-kkill", NULL);
    MemctlClient *c = NULL;
    g_assert_cmpint(memctl_client_open(t.bus.address, &c), ==, 0);
    MemctlSetting s[] = {{"max", "32M"}};
    g_assert_cmpint(memctl_client_create_group(c, "bare", s, 1, NULL), ==, 0);
    g_autofree char *dir = g_build_filename(t.root, "bare", NULL);
    KernelSeen seen = {0};
    g_assert_cmpint(memctl_client_subscribe(c, on_kernel_killed, NULL, &seen), ==, 0);
    Hog h;
    const char *args[] = {"--cgroup", dir, "--step", "1M", NULL};
    hog_start(&h, args);
    int st = hog_wait(&h, 60000);
    g_assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (seen.kernel == 0 && g_get_monotonic_time() < deadline)
        g_assert_cmpint(memctl_client_wait(c, 1000000), >=, 0);
    g_assert_cmpuint(seen.kernel, ==, 1);
    g_assert_cmpuint(seen.pid, ==, 0);
    MemctlKill *k = NULL;
    size_t n = 0;
    g_assert_cmpint(memctl_client_list_kills(c, 0, &k, &n, NULL), ==, 1);
    g_assert_cmpstr(k[0].by, ==, "kernel");
    g_assert_cmpstr(k[0].reason, ==, "kernel");
    g_assert_cmpuint(k[0].processes, ==, 1);
    memctl_kill_free_array(k, n);
    MemctlGroupInfo g;
    g_assert_cmpint(memctl_client_get_group(c, "bare", &g), ==, 0);
    g_assert_cmpuint(g.kernel_oom_kills, ==, 1);
    g_assert_cmpuint(g.kills, ==, 0);
    memctl_group_info_clear(&g);
    memctl_client_free(c);
    apitest_stop(&t);
}

/* In a child as uid/gid 65534 (plus `extra_gid` unless -1): tries to create (or remove) `name`, then
 * to list. Exit code: 0 done, 1 access denied, 2 other error; +10 if listing (read access) failed. */
static int as_nobody_do(const char *address, const char *name, gid_t extra_gid, bool remove)
{
    pid_t pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        gid_t groups[1] = {extra_gid};
        if (setgroups(extra_gid == (gid_t)-1 ? 0 : 1, groups) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
            _exit(99);
        MemctlClient *c = NULL;
        if (memctl_client_open(address, &c) < 0)
            _exit(98);
        int r = remove ? memctl_client_remove_group(c, name, 0, NULL)
                       : memctl_client_create_group(c, name, NULL, 0, NULL);
        int code = r == 0 ? 0 : r == -EACCES ? 1 : 2;
        if (r == -EACCES && !strstr(memctl_client_error_message(c), "may not call"))
            code = 3;
        MemctlGroupInfo *g = NULL;
        size_t n = 0;
        if (memctl_client_list_groups(c, &g, &n) < 0)
            code += 10;
        memctl_group_info_free_array(g, n);
        memctl_client_free(c);
        _exit(code);
    }
    int status;
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static int as_nobody(const char *address, const char *name, gid_t extra_gid)
{
    return as_nobody_do(address, name, extra_gid, false);
}

typedef struct {
    char *actions, *rules;
} PolkitDirs;

/* polkitd's child: its own mount namespace, where our actions and rule replace the system's. */
static void polkit_setup(gpointer data)
{
    PolkitDirs *p = data;
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
        mount(p->actions, "/usr/share/polkit-1/actions", NULL, MS_BIND, NULL) < 0 ||
        mount(p->rules, "/etc/polkit-1/rules.d", NULL, MS_BIND, NULL) < 0)
        _exit(127);
}

static const char polkit_rule[] =
        "polkit.addRule(function(action, subject) {\n"
        "    if (action.id == \"org.memctl.create-group\" && subject.user == \"nobody\")\n"
        "        return polkit.Result.YES;\n"
        "});\n";

/* A real polkitd with the shipped actions and a rule that lets nobody create groups, nothing else:
 * memctld asks polkit for a caller that is neither root nor admin, per verb. */
static void test_polkit(void)
{
    const char *polkitd = "/usr/lib/polkit-1/polkitd";
    if (!g_file_test(polkitd, G_FILE_TEST_IS_EXECUTABLE))
        g_error("%s is missing: scripts/setup installs polkitd", polkitd);
    g_autoptr(GError) err = NULL;
    g_autofree char *tmp = g_dir_make_tmp("memctl-polkit-XXXXXX", &err);
    g_assert_no_error(err);
    g_assert_no_errno(chmod(tmp, 0755));
    PolkitDirs dirs = {g_build_filename(tmp, "actions", NULL), g_build_filename(tmp, "rules", NULL)};
    g_assert_no_errno(mkdir(dirs.actions, 0755));
    g_assert_no_errno(mkdir(dirs.rules, 0755));
    g_autofree char *src =
            g_build_filename(g_getenv("MEMCTL_SOURCE_ROOT"), "dbus", "org.memctl.policy", NULL);
    g_autofree char *policy = NULL;
    g_assert_true(g_file_get_contents(src, &policy, NULL, NULL));
    g_autofree char *dst = g_build_filename(dirs.actions, "org.memctl.policy", NULL);
    g_autofree char *rule = g_build_filename(dirs.rules, "10-memctl-test.rules", NULL);
    g_assert_true(g_file_set_contents(dst, policy, -1, NULL));
    g_assert_true(g_file_set_contents(rule, polkit_rule, -1, NULL));
    g_assert_no_errno(chmod(dst, 0644));
    g_assert_no_errno(chmod(rule, 0644));

    ApiTest t = {0};
    cgtest_require_cgroup2();
    t.root = g_strdup_printf("%s/memctl-polkit.%d", cgtest_mount(), (int)getpid());
    cgtest_remove_tree(t.root);
    const char *includes[] = {"/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf", NULL};
    bustest_start_with(&t.bus, includes);
    g_auto(GStrv) envp = g_environ_setenv(g_get_environ(), "DBUS_SYSTEM_BUS_ADDRESS", t.bus.address, TRUE);
    const char *argv[] = {polkitd, "--no-debug", NULL};
    GPid pk;
    g_assert_true(g_spawn_async(NULL, (char **)argv, envp, G_SPAWN_DO_NOT_REAP_CHILD, polkit_setup, &dirs,
                                &pk, &err));
    g_assert_no_error(err);
    bustest_wait_name(&t.bus, "org.freedesktop.PolicyKit1", 15000);
    g_autofree char *bus_arg = g_strdup_printf("--bus-address=%s", t.bus.address);
    const char *args[] = {bus_arg, "--admin-group=", NULL};
    daemontest_start(&t.d, t.root, args);
    bustest_wait_name(&t.bus, MEMCTL_BUS_NAME, 5000);

    /* nobody, not an admin: polkit's rule allows create-group */
    g_assert_cmpint(as_nobody(t.bus.address, "pk", (gid_t)-1), ==, 0);
    g_autofree char *pkdir = g_build_filename(t.root, "pk", NULL);
    g_assert_true(g_file_test(pkdir, G_FILE_TEST_IS_DIR));
    /* ... and nothing else: remove-group is refused, the group stays */
    g_assert_cmpint(as_nobody_do(t.bus.address, "pk", (gid_t)-1, true), ==, 1);
    g_assert_true(g_file_test(pkdir, G_FILE_TEST_IS_DIR));
    g_autofree char *log = NULL;
    g_assert_true(g_file_get_contents(t.d.log, &log, NULL, NULL));
    g_assert_nonnull(strstr(log, "refused RemoveGroup"));
    g_assert_nonnull(strstr(log, "polkit refused"));

    kill(pk, SIGTERM);
    int status;
    waitpid(pk, &status, 0);
    g_spawn_close_pid(pk);
    apitest_stop(&t);
    (void)unlink(dst);
    (void)unlink(rule);
    (void)rmdir(dirs.actions);
    (void)rmdir(dirs.rules);
    (void)rmdir(tmp);
    g_free(dirs.actions);
    g_free(dirs.rules);
}

static void test_authorization(void)
{
    struct group *users = getgrnam("users");
    g_assert_nonnull(users);
    g_autofree char *admin = g_strdup_printf("--admin-group=%s", users->gr_name);
    gid_t admin_gid = users->gr_gid;
    const char *args[] = {admin, "--no-polkit", NULL};
    ApiTest t;
    apitest_start(&t, "memctl-auth", args);

    /* unprivileged: refused, nothing created; reading is open */
    g_assert_cmpint(as_nobody(t.bus.address, "evil", (gid_t)-1), ==, 1);
    g_autofree char *evil = g_build_filename(t.root, "evil", NULL);
    g_assert_false(g_file_test(evil, G_FILE_TEST_EXISTS));
    /* a member of the admin group may */
    g_assert_cmpint(as_nobody(t.bus.address, "ops", admin_gid), ==, 0);
    g_autofree char *ops = g_build_filename(t.root, "ops", NULL);
    g_assert_true(g_file_test(ops, G_FILE_TEST_IS_DIR));
    g_autofree char *log = NULL;
    g_assert_true(g_file_get_contents(t.d.log, &log, NULL, NULL));
    g_assert_nonnull(strstr(log, "refused CreateGroup"));

    /* the shipped bus policy: only root may own the name */
    pid_t pid = fork();
    if (pid == 0) {
        if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
            _exit(99);
        /* sd-bus, not GDBus: GDBus needs its worker thread, which a forked child does not have */
        sd_bus *bus = NULL;
        if (sd_bus_new(&bus) < 0 || sd_bus_set_address(bus, t.bus.address) < 0 ||
            sd_bus_set_bus_client(bus, 1) < 0 || sd_bus_start(bus) < 0)
            _exit(98);
        int r = sd_bus_request_name(bus, MEMCTL_BUS_NAME, 0);
        _exit(r == -EACCES ? 0 : 2);
    }
    int status;
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    apitest_stop(&t);
}

/* One JSON line from the follower, within timeout_ms. */
static json_object *read_line(int fd, GString *buf, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        char *nl = strchr(buf->str, '\n');
        if (nl) {
            g_autofree char *line = g_strndup(buf->str, (gsize)(nl - buf->str));
            g_string_erase(buf, 0, nl - buf->str + 1);
            json_object *o = json_tokener_parse(line);
            if (!o)
                g_error("not JSON from memctl kills --follow: %s", line);
            return o;
        }
        int left = (int)((deadline - g_get_monotonic_time()) / 1000);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, left) <= 0)
            return NULL;
        char chunk[4096];
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n <= 0)
            return NULL;
        g_string_append_len(buf, chunk, n);
    }
}

static uint64_t get_u64(json_object *o, const char *key)
{
    json_object *v;
    g_assert_true(json_object_object_get_ex(o, key, &v));
    return json_object_get_uint64(v);
}

static void test_follow(void)
{
    ApiTest t;
    apitest_start(&t, "memctl-follow", NULL);
    MemctlClient *c = NULL;
    g_assert_cmpint(memctl_client_open(t.bus.address, &c), ==, 0);
    MemctlSetting s[] = {{"limit", "64M"}};
    g_assert_cmpint(memctl_client_create_group(c, "f", s, 1, NULL), ==, 0);
    g_autofree char *dir = g_build_filename(t.root, "f", NULL);

    g_autofree char *memctl = daemontest_binary("client/memctl");
    g_autofree char *address = g_strdup_printf("--bus-address=%s", t.bus.address);
    const char *argv[] = {memctl, address, "kills", "--follow", "--json", NULL};
    GPid follower;
    int out_fd;
    g_autoptr(GError) err = NULL;
    g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                           &follower, NULL, &out_fd, NULL, &err));
    g_autoptr(GString) buf = g_string_new(NULL);

    /* a first, manual kill proves the follower is subscribed */
    Hog idle;
    const char *iargs[] = {"--cgroup", dir, "--total", "1M", "--hold", NULL};
    for (int tries = 0;; tries++) {
        g_assert_cmpint(tries, <, 20);
        hog_start(&idle, iargs);
        g_assert_cmpint(memctl_client_kill_group(c, "f", "sync", MEMCTL_CLIENT_KILL_ONE), ==, 0);
        hog_wait(&idle, 5000);
        json_object *o = read_line(out_fd, buf, 1000);
        if (o) {
            json_object_put(o);
            break;
        }
    }

    uint64_t worst = 0;
    for (guint it = 0; it < cgtest_iterations(); it++) {
        Hog h;
        const char *args[] = {"--cgroup", dir, "--step", "1M", NULL};
        hog_start(&h, args);
        json_object *o = read_line(out_fd, buf, 60000);
        g_assert_nonnull(o);
        g_assert_cmpuint(get_u64(o, "pid"), ==, (uint64_t)h.pid);
        /* The record goes out once the victim's memory is back and it has exited (its record counts
         * what it freed whole): the later of the two, on the record's own clock. The victim's exit
         * time is in the kill log's record (the bus record has no field for it). */
        g_autofree char *needle = g_strdup_printf("\"pid\":%d,", (int)h.pid);
        g_autofree char *rec = daemontest_wait_record(&t.d, 5000, needle, "\"type\":\"kill\"");
        g_assert_nonnull(rec);
        const char *ex = strstr(rec, "\"signal_to_exit_usec\":");
        g_assert_nonnull(ex);
        uint64_t exit_usec = g_ascii_strtoull(ex + strlen("\"signal_to_exit_usec\":"), NULL, 10);
        uint64_t freed = get_u64(o, "freed_usec");
        uint64_t reaped = get_u64(o, "reap_usec");
        g_assert_cmpuint(reaped, <=, freed); /* the reap is part of the release */
        uint64_t done = get_u64(o, "time_usec") + get_u64(o, "latency_usec") + MAX(freed, exit_usec);
        uint64_t seen = get_u64(o, "received_usec");
        uint64_t delay = seen > done ? seen - done : 0;
        g_test_message("kill %u: seen by memctl kills --follow %.1f ms after its record could go out (memory "
                       "released %.1f ms, exit %.1f ms after the signal)",
                       it, delay / 1000.0, freed / 1000.0, exit_usec / 1000.0);
        worst = MAX(worst, delay);
        json_object_put(o);
        int st = hog_wait(&h, 10000);
        g_assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    }
    g_assert_cmpuint(worst, <, 100000);
    kill(follower, SIGTERM);
    int status;
    g_assert_cmpint(waitpid(follower, &status, 0), ==, follower);
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(out_fd);
    memctl_client_free(c);
    apitest_stop(&t);
}

/* The documented example (client/examples/run-in-group.c) does what it says: its payload, a hog
 * over the limit, is killed by memctld, it says so and exits 137, and the group is gone after. */
static void test_example(void)
{
    ApiTest t;
    apitest_start(&t, "memctl-example", NULL);
    g_autofree char *example = daemontest_binary("client/run-in-group");
    g_autofree char *hog = daemontest_binary("tests/lib/memhog");
    const char *argv[] = {example, "ctr-1", "48M", hog, "--step", "1M", "--total", "200M", NULL};
    g_autofree char *env_bus = g_strdup_printf("DBUS_SYSTEM_BUS_ADDRESS=%s", t.bus.address);
    const char *envp[] = {env_bus, "PATH=/usr/bin:/bin", NULL};
    g_autofree char *out = NULL, *errs = NULL;
    int status = -1;
    g_autoptr(GError) err = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, (char **)envp, G_SPAWN_DEFAULT, NULL, NULL, &out, &errs,
                               &status, &err));
    g_test_message("run-in-group said: %s", errs);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 128 + SIGKILL);
    g_assert_nonnull(strstr(errs, "was killed by memctld ("));
    g_assert_nonnull(strstr(errs, "kernel OOM kills 0"));
    g_autofree char *dir = g_build_filename(t.root, "ctr-1", NULL);
    g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
    apitest_stop(&t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    cgtest_require_cgroup2();
    g_test_add_func("/client/library", test_library);
    g_test_add_func("/client/kernel-kill", test_kernel_kill);
    g_test_add_func("/client/authorization", test_authorization);
    g_test_add_func("/client/polkit", test_polkit);
    g_test_add_func("/client/follow", test_follow);
    g_test_add_func("/client/example", test_example);
    return g_test_run();
}
