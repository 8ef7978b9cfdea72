/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The path every memctl integration test stands on, on the real kernel: create a cgroup under a
 * managed root, set memory.max and memory.high, attach a process, read the values back, see an
 * inotify event on memory.events when the process crosses memory.high, and clean up; and the
 * machine stays up while top-level cgroups come and go under allocation (below).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/cgtest.h"

#define MiB (1024ull * 1024)

static void test_limits_roundtrip(void)
{
    g_autofree char *root = cgtest_root_new("memctl-smoke");
    g_autofree char *g = cgtest_mkdir(root, "g");

    g_assert_cmpint(cgtest_write(g, "memory.max", "67108864"), ==, 0);
    g_assert_cmpint(cgtest_write(g, "memory.high", "33554432"), ==, 0);
    g_assert_cmpuint(cgtest_read_u64(g, "memory.max"), ==, 64 * MiB);
    g_assert_cmpuint(cgtest_read_u64(g, "memory.high"), ==, 32 * MiB);

    /* The kernel rounds down to pages and reads back "max" for no limit. */
    g_assert_cmpint(cgtest_write(g, "memory.max", "max"), ==, 0);
    g_assert_cmpuint(cgtest_read_u64(g, "memory.max"), ==, UINT64_MAX);
    g_assert_cmpint(cgtest_write(g, "memory.high", "1000000"), ==, 0);
    g_assert_cmpuint(cgtest_read_u64(g, "memory.high"), ==, 1000000 / 4096 * 4096);

    /* Garbage is refused by the kernel and leaves the value as it was. */
    g_assert_cmpint(cgtest_write(g, "memory.high", "lots"), ==, -EINVAL);
    g_assert_cmpuint(cgtest_read_u64(g, "memory.high"), ==, 1000000 / 4096 * 4096);

    cgtest_remove_tree(root);
    g_assert_false(g_file_test(root, G_FILE_TEST_EXISTS));
}

static void test_high_event(void)
{
    g_autofree char *root = cgtest_root_new("memctl-smoke");
    g_autofree char *g = cgtest_mkdir(root, "g");
    g_assert_cmpint(cgtest_write(g, "memory.max", "67108864"), ==, 0);
    g_assert_cmpint(cgtest_write(g, "memory.high", "33554432"), ==, 0);

    CgtestChild child;
    cgtest_child_spawn(&child, g);
    g_autofree char *procs = cgtest_read(g, "cgroup.procs");
    g_assert_cmpint(g_ascii_strtoll(procs, NULL, 10), ==, child.pid);
    g_assert_cmpuint(cgtest_read_key(g, "memory.events", "high"), ==, 0);

    int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    g_assert_cmpint(ifd, >=, 0);
    g_autofree char *events = g_build_filename(g, "memory.events", NULL);
    g_assert_cmpint(inotify_add_watch(ifd, events, IN_MODIFY), >=, 0);

    /* 48 MiB: above high (32 MiB), below max (64 MiB): throttled, never killed. */
    cgtest_child_alloc_async(&child, 48 * MiB);
    struct pollfd p = {.fd = ifd, .events = POLLIN};
    g_assert_cmpint(poll(&p, 1, 20000), ==, 1);
    struct inotify_event ev;
    char buf[sizeof(ev) + 256];
    g_assert_cmpint(read(ifd, buf, sizeof(buf)), >=, (ssize_t)sizeof(ev));
    g_assert_true(((struct inotify_event *)buf)->mask & IN_MODIFY);
    g_assert_cmpuint(cgtest_read_key(g, "memory.events", "high"), >, 0);

    /* The child finishes its allocation (reclaim may push pages out only if there is swap; there
     * is none here, so it stays over high and is throttled but alive). */
    g_assert_true(cgtest_child_wait_reply(&child, 60000));
    g_assert_cmpuint(cgtest_read_key(g, "memory.events", "oom_kill"), ==, 0);
    g_assert_cmpuint(cgtest_read_u64(g, "memory.current"), >=, 32 * MiB);
    g_assert_cmpuint(cgtest_read_u64(g, "memory.peak"), >=, 48 * MiB);

    int status = cgtest_child_kill(&child);
    g_assert_true(WIFSIGNALED(status));
    close(ifd);
    cgtest_remove_tree(root);
    g_assert_false(g_file_test(root, G_FILE_TEST_EXISTS));
}

/* Top-level cgroups created and removed one by one while another process allocates and frees pages:
 * the first memory or cpuset css turns static keys on (cpusets_enabled_key is tested in every page
 * allocation) and the last one's removal turns them off, and each flip patches kernel text. Under
 * multi-threaded TCG that patching races the other vCPU (an "Oops: int3" in get_page_from_freelist,
 * then a panic: Debian's 6.12 within 400 flips in three runs of three); the VM's init holds the
 * keys on with a cgroup of its own. Natively this is cgroup churn the kernel must simply survive. */
static void test_cgroup_churn(void)
{
    g_autofree char *ctrl = cgtest_read(cgtest_mount(), "cgroup.subtree_control");
    g_test_message("root's subtree_control: %s", g_strstrip(ctrl));

    pid_t hog = fork();
    g_assert_cmpint(hog, >=, 0);
    if (hog == 0) {
        for (;;) {
            size_t len = 16 << 20;
            char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED)
                _exit(1);
            memset(p, 1, len);
            munmap(p, len);
        }
    }

    const guint rounds = 400;
    for (guint i = 0; i < rounds; i++) {
        g_autofree char *dir = g_strdup_printf("%s/memctl-churn.%d", cgtest_mount(), (int)getpid());
        g_assert_cmpint(mkdir(dir, 0755), ==, 0);
        g_assert_cmpint(rmdir(dir), ==, 0);
        g_usleep(20000); /* the css goes after an RCU grace period: let the count reach 0 */
    }

    g_assert_cmpint(kill(hog, SIGKILL), ==, 0);
    int status;
    g_assert_cmpint(waitpid(hog, &status, 0), ==, hog);
    g_assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    cgtest_require_cgroup2();
    g_test_add_func("/smoke/limits-roundtrip", test_limits_roundtrip);
    g_test_add_func("/smoke/high-event", test_high_event);
    g_test_add_func("/smoke/cgroup-churn", test_cgroup_churn);
    return g_test_run();
}
