/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tests/lib/cgtest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/size.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

const char *cgtest_mount(void)
{
    const char *m = g_getenv("MEMCTL_CGROUP_MOUNT");
    return m && *m ? m : "/sys/fs/cgroup";
}

void cgtest_require_cgroup2(void)
{
    struct statfs sfs;
    if (statfs(cgtest_mount(), &sfs) < 0)
        g_error("cannot statfs %s: %s", cgtest_mount(), g_strerror(errno));
    if (sfs.f_type != CGROUP2_SUPER_MAGIC)
        g_error("%s is not a cgroup2 mount; run integration tests through tests/integration/run-test, "
                "which boots the test VM on hosts without cgroup v2",
                cgtest_mount());
    g_autofree char *ctrl = cgtest_read(cgtest_mount(), "cgroup.controllers");
    g_auto(GStrv) names = g_strsplit_set(g_strstrip(ctrl), " ", -1);
    if (!g_strv_contains((const char *const *)names, "memory"))
        g_error("the memory controller is not available on %s (controllers: %s)", cgtest_mount(), ctrl);
    if (geteuid() != 0)
        g_error("integration tests need root to create cgroups");
}

int cgtest_write(const char *dir, const char *file, const char *value)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, value, strlen(value));
    int r = n < 0 ? -errno : 0;
    close(fd);
    return r;
}

char *cgtest_read(const char *dir, const char *file)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    g_autoptr(GError) err = NULL;
    char *s = NULL;
    if (!g_file_get_contents(path, &s, NULL, &err))
        g_error("cannot read %s: %s", path, err->message);
    return s;
}

uint64_t cgtest_read_u64(const char *dir, const char *file)
{
    g_autofree char *s = cgtest_read(dir, file);
    uint64_t v;
    if (memctl_size_parse_kernel(s, &v) < 0)
        g_error("%s/%s: not a value: '%s'", dir, file, s);
    return v;
}

uint64_t cgtest_read_key(const char *dir, const char *file, const char *key)
{
    g_autofree char *s = cgtest_read(dir, file);
    g_auto(GStrv) lines = g_strsplit(s, "\n", -1);
    size_t klen = strlen(key);
    for (char **l = lines; *l; l++)
        if (strncmp(*l, key, klen) == 0 && (*l)[klen] == ' ')
            return g_ascii_strtoull(*l + klen + 1, NULL, 10);
    g_error("%s/%s has no key '%s'", dir, file, key);
}

char *cgtest_mkdir(const char *parent, const char *name)
{
    char *path = g_build_filename(parent, name, NULL);
    if (mkdir(path, 0755) < 0)
        g_error("cannot create cgroup %s: %s", path, g_strerror(errno));
    return path;
}

char *cgtest_root_new(const char *prefix)
{
    cgtest_require_cgroup2();
    g_autofree char *name = g_strdup_printf("%s.%d", prefix, (int)getpid());
    char *root = g_build_filename(cgtest_mount(), name, NULL);
    if (g_file_test(root, G_FILE_TEST_IS_DIR))
        cgtest_remove_tree(root);
    g_free(cgtest_mkdir(cgtest_mount(), name));
    int r = cgtest_write(root, "cgroup.subtree_control", "+memory");
    if (r < 0)
        g_error("cannot enable +memory below %s: %s", root, g_strerror(-r));
    return root;
}

void cgtest_attach(const char *dir, pid_t pid)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%d", (int)pid);
    int r = cgtest_write(dir, "cgroup.procs", buf);
    if (r < 0)
        g_error("cannot move %d into %s: %s", (int)pid, dir, g_strerror(-r));
}

static void remove_depth_first(const char *path)
{
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    if (!d)
        return;
    const char *e;
    while ((e = g_dir_read_name(d))) {
        g_autofree char *sub = g_build_filename(path, e, NULL);
        if (g_file_test(sub, G_FILE_TEST_IS_DIR))
            remove_depth_first(sub);
    }
    /* An emptied cgroup can take a moment to be released after its last task exits. */
    for (int i = 0; i < 500 && rmdir(path) < 0 && errno == EBUSY; i++)
        g_usleep(10 * 1000);
    if (g_file_test(path, G_FILE_TEST_IS_DIR))
        g_error("cannot remove cgroup %s: %s", path, g_strerror(errno));
}

void cgtest_remove_tree(const char *path)
{
    if (!g_file_test(path, G_FILE_TEST_IS_DIR))
        return;
    (void)cgtest_write(path, "cgroup.kill", "1");
    for (int i = 0; i < 500; i++) {
        g_autofree char *ev = cgtest_read(path, "cgroup.events");
        if (strstr(ev, "populated 0"))
            break;
        g_usleep(10 * 1000);
    }
    remove_depth_first(path);
}

static void child_main(int cmd_fd, int reply_fd)
{
    for (;;) {
        uint64_t bytes;
        ssize_t n = read(cmd_fd, &bytes, sizeof(bytes));
        if (n != (ssize_t)sizeof(bytes))
            _exit(n == 0 ? 0 : 1);
        char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            _exit(2);
        for (uint64_t off = 0; off < bytes; off += 4096)
            p[off] = 1;
        char ok = 'k';
        if (write(reply_fd, &ok, 1) != 1)
            _exit(3);
    }
}

void cgtest_child_spawn(CgtestChild *c, const char *dir)
{
    int cmd[2], reply[2];
    g_assert_no_errno(pipe2(cmd, O_CLOEXEC));
    g_assert_no_errno(pipe2(reply, O_CLOEXEC));
    pid_t pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        close(cmd[1]);
        close(reply[0]);
        child_main(cmd[0], reply[1]);
    }
    close(cmd[0]);
    close(reply[1]);
    c->pid = pid;
    c->cmd_fd = cmd[1];
    c->reply_fd = reply[0];
    cgtest_attach(dir, pid);
}

void cgtest_child_alloc_async(CgtestChild *c, uint64_t bytes)
{
    g_assert_cmpint(write(c->cmd_fd, &bytes, sizeof(bytes)), ==, (ssize_t)sizeof(bytes));
}

bool cgtest_child_wait_reply(CgtestChild *c, int timeout_ms)
{
    struct pollfd p = {.fd = c->reply_fd, .events = POLLIN};
    int r = poll(&p, 1, timeout_ms);
    g_assert_cmpint(r, >=, 0);
    if (r == 0)
        return false;
    char ok;
    return read(c->reply_fd, &ok, 1) == 1 && ok == 'k';
}

int cgtest_child_kill(CgtestChild *c)
{
    int status = 0;
    kill(c->pid, SIGKILL);
    g_assert_cmpint(waitpid(c->pid, &status, 0), ==, c->pid);
    close(c->cmd_fd);
    close(c->reply_fd);
    c->pid = -1;
    return status;
}

void cgtest_remove_tmpdir(const char *dir)
{
    g_assert_true(g_str_has_prefix(dir, g_get_tmp_dir()));
    const char *argv[] = {"rm", "-rf", "--", dir, NULL};
    gint status = -1;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                               &status, NULL));
    g_assert_true(g_spawn_check_wait_status(status, NULL));
}

guint cgtest_psimon_threads(void)
{
    g_autoptr(GDir) d = g_dir_open("/proc", 0, NULL);
    guint n = 0;
    for (const char *e; d && (e = g_dir_read_name(d));) {
        if (e[0] < '0' || e[0] > '9')
            continue;
        g_autofree char *path = g_strdup_printf("/proc/%s/comm", e);
        g_autofree char *comm = NULL;
        if (g_file_get_contents(path, &comm, NULL, NULL) && g_str_has_prefix(comm, "psimon"))
            n++;
    }
    return n;
}

guint cgtest_iterations(void)
{
    const char *s = g_getenv("MEMCTL_TEST_ITERATIONS");
    guint n = s ? (guint)g_ascii_strtoull(s, NULL, 10) : 10;
    return n ? n : 1;
}

char *cgtest_fresh_root(const char *prefix)
{
    cgtest_require_cgroup2();
    char *root = g_strdup_printf("%s/%s.%d", cgtest_mount(), prefix, (int)getpid());
    cgtest_remove_tree(root);
    return root;
}
