/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memctld's core on the real kernel: kills in place of ENOMEM (WHY.md §2), no collateral victims
 * (WHY.md §1), whole-group kills, protection, bad input, a core that works while the GLib side is
 * blocked (WHY.md §3), adoption. Scenarios repeat $MEMCTL_TEST_ITERATIONS times (default 10).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/cgtest.h"
#include "tests/lib/daemontest.h"
#include "tests/lib/freezefs.h"
#include "tests/lib/httptest.h"

#define MiB ((uint64_t)1024 * 1024)

static bool killed_by_sigkill(int status)
{
    return status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

/* Runs a hog to its death in grp and asserts memctld killed it with no allocation failure seen. */
static void hog_until_killed(DaemonTest *d, const char *grp, const char *mode)
{
    Hog h;
    const char *args[] = {"--cgroup", grp, "--mode", mode, "--step", "1M", NULL};
    hog_start(&h, args);
    int pid = (int)h.pid;
    int status = hog_wait(&h, 120000);
    g_autofree char *err = hog_stderr(&h);
    if (!killed_by_sigkill(status))
        g_error("hog (%s) was not SIGKILLed: status %d, stderr: %s", mode, status, err);
    if (strstr(err, "memhog:"))
        g_error("the hog (%s) saw an allocation failure before it was killed: %s", mode, err);
    g_autofree char *needle = g_strdup_printf("\"pid\":%d,", pid);
    g_autofree char *rec = daemontest_wait_record(d, 10000, needle, "\"type\":\"kill\"");
    if (!rec)
        g_error("no kill record for hog %d (%s): killed by someone else?", pid, mode);
}

static void test_enomem(void)
{
    g_autofree char *root = cgtest_fresh_root("memctl-enomem");
    DaemonTest d;
    const char *args[] = {"--group=t:limit=128M", NULL};
    daemontest_start(&d, root, args);
    g_autofree char *grp = g_build_filename(root, "t", NULL);
    g_assert_cmpuint(cgtest_read_u64(grp, "memory.max"), ==, 128 * MiB);
    g_assert_cmpuint(cgtest_read_u64(grp, "memory.high"), ==, (128 * MiB - 128 * MiB / 20) / 4096 * 4096);

    static const char *const modes[] = {"anon", "populate", "read"};
    guint runs = 0;
    for (guint it = 0; it < cgtest_iterations(); it++)
        for (size_t m = 0; m < G_N_ELEMENTS(modes); m++) {
            hog_until_killed(&d, grp, modes[m]);
            runs++;
        }
    /* every hog was memctld's kill, not the kernel's */
    g_assert_cmpuint(cgtest_read_key(grp, "memory.events.local", "oom_kill"), ==, 0);
    g_assert_cmpuint(cgtest_read_key(grp, "memory.events.local", "oom"), ==, 0);
    g_autofree char *rec = daemontest_wait_record(&d, 5000, "\"type\":\"kill\"", "\"group\":\"t\"");
    g_assert_nonnull(rec);
    g_assert_cmpuint(daemontest_wait_count(&d, "\"type\":\"kill\"", runs, 5000), ==, runs);
    g_assert_cmpuint(daemontest_count_records(&d, "kernel-oom-kill"), ==, 0);
    g_test_message("%u hogs killed by memctld, 0 ENOMEM, 0 kernel OOM kills; last record: %s", runs, rec);
    daemontest_stop(&d);
    cgtest_remove_tree(root);
}

/* The same workloads with the same memory.max/high and no memctld: what the kernel does. */
static void test_enomem_control(void)
{
    g_autofree char *root = cgtest_root_new("memctl-control");
    g_autofree char *grp = cgtest_mkdir(root, "t");
    g_assert_cmpint(cgtest_write(grp, "memory.max", "134217728"), ==, 0);
    g_assert_cmpint(cgtest_write(grp, "memory.high", "127506841"), ==, 0);
    static const char *const modes[] = {"anon", "populate", "read"};
    guint enomem = 0;
    for (size_t m = 0; m < G_N_ELEMENTS(modes); m++) {
        Hog h;
        const char *args[] = {"--cgroup", grp, "--mode", modes[m], "--step", "1M", NULL};
        gint64 t0 = g_get_monotonic_time();
        hog_start(&h, args);
        int status = hog_wait(&h, 300000);
        g_autofree char *err = hog_stderr(&h);
        gint64 dt = g_get_monotonic_time() - t0;
        g_assert_cmpint(status, !=, -1);
        enomem += strstr(err, "memhog:") ? 1 : 0;
        g_test_message("kernel alone, %s: %s after %.1f s%s%s", modes[m],
                       WIFSIGNALED(status) ? "killed" : "exited", dt / 1e6, *err ? "; the hog saw: " : "",
                       g_strstrip(err));
    }
    uint64_t oom_kill = cgtest_read_key(grp, "memory.events.local", "oom_kill");
    g_test_message("kernel alone: %" G_GUINT64_FORMAT
                   " kernel OOM kill(s), %u run(s) with allocation failures",
                   oom_kill, enomem);
    /* Without memctld the kernel had to act: OOM kills (or failed allocations). */
    g_assert_cmpuint(oom_kill + enomem, >=, 1);
    cgtest_remove_tree(root);
}

static void test_collateral(void)
{
    g_autofree char *root = cgtest_fresh_root("memctl-collateral");
    DaemonTest d;
    const char *args[] = {"--group=t:limit=128M", NULL};
    daemontest_start(&d, root, args);
    g_autofree char *grp = g_build_filename(root, "t", NULL);
    for (guint it = 0; it < cgtest_iterations(); it++) {
        Hog steady, hog;
        const char *sargs[] = {"--cgroup", grp, "--total", "32M", "--hold", NULL};
        hog_start(&steady, sargs);
        const char *hargs[] = {"--cgroup", grp, "--step", "1M", NULL};
        hog_start(&hog, hargs);
        int status = hog_wait(&hog, 120000);
        g_assert_true(killed_by_sigkill(status));
        /* give a second victim every chance to be (wrongly) chosen */
        g_usleep(300 * 1000);
        g_assert_true(hog_alive(&steady));
        g_assert_true(killed_by_sigkill(hog_kill(&steady)));
    }
    g_assert_cmpuint(daemontest_wait_count(&d, "\"type\":\"kill\"", cgtest_iterations(), 5000), ==,
                     cgtest_iterations());
    g_assert_cmpuint(daemontest_count_records(&d, "\"comm\":\"memhog\""), ==, cgtest_iterations());
    g_assert_cmpuint(cgtest_read_key(grp, "memory.events.local", "oom_kill"), ==, 0);
    daemontest_stop(&d);
    cgtest_remove_tree(root);
}

static void test_group_kill(void)
{
    g_autofree char *root = cgtest_fresh_root("memctl-groupkill");
    DaemonTest d;
    const char *args[] = {"--group=t:limit=128M,oom_group=1", NULL};
    daemontest_start(&d, root, args);
    g_autofree char *grp = g_build_filename(root, "t", NULL);
    g_assert_cmpuint(cgtest_read_u64(grp, "memory.oom.group"), ==, 1);
    for (guint it = 0; it < cgtest_iterations(); it++) {
        Hog steady[3], hog;
        for (int k = 0; k < 3; k++) {
            const char *sargs[] = {"--cgroup", grp, "--total", "8M", "--hold", NULL};
            hog_start(&steady[k], sargs);
        }
        const char *hargs[] = {"--cgroup", grp, "--step", "1M", NULL};
        hog_start(&hog, hargs);
        g_assert_true(killed_by_sigkill(hog_wait(&hog, 120000)));
        for (int k = 0; k < 3; k++)
            g_assert_true(killed_by_sigkill(hog_wait(&steady[k], 10000)));
        g_autofree char *procs = cgtest_read(grp, "cgroup.procs");
        g_assert_cmpstr(procs, ==, "");
    }
    g_autofree char *rec = daemontest_wait_record(&d, 5000, "\"group_kill\":true", "\"processes\":4");
    g_assert_nonnull(rec);
    g_assert_cmpuint(daemontest_wait_count(&d, "\"group_kill\":true", cgtest_iterations(), 5000), ==,
                     cgtest_iterations());
    daemontest_stop(&d);
    cgtest_remove_tree(root);
}

/* Reads regular files below dir into the page cache, from a child inside grp, until `*left` is 0. */
static void read_files(const char *dir, uint64_t *left, char *buf, size_t size)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *e;
    while (*left > 0 && d && (e = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(dir, e, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_SYMLINK))
            continue;
        if (g_file_test(p, G_FILE_TEST_IS_DIR)) {
            read_files(p, left, buf, size);
            continue;
        }
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        ssize_t n;
        while (fd >= 0 && *left > 0 && (n = read(fd, buf, MIN(size, *left))) > 0)
            *left -= (uint64_t)n;
        if (fd >= 0)
            close(fd);
    }
}

static void fill_page_cache(const char *grp, uint64_t want)
{
    /* Files cached by an earlier run stay charged to it: start from an empty clean cache. */
    sync();
    g_assert_cmpint(cgtest_write("/proc/sys/vm", "drop_caches", "1"), ==, 0);
    pid_t pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        char me[24];
        g_snprintf(me, sizeof(me), "%d", (int)getpid());
        if (cgtest_write(grp, "cgroup.procs", me) < 0)
            _exit(1);
        static char buf[1 << 16];
        uint64_t left = want;
        read_files("/usr/lib", &left, buf, sizeof(buf));
        _exit(left == 0 ? 0 : 2);
    }
    int status;
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static uint64_t protection_run(bool with_min)
{
    g_autofree char *root = cgtest_fresh_root(with_min ? "memctl-protect" : "memctl-noprotect");
    DaemonTest d;
    const char *args[] = {"--group=p:limit=256M", with_min ? "--group=p/a:min=96M" : "--group=p/a",
                          "--group=p/b", NULL};
    daemontest_start(&d, root, args);
    g_autofree char *a = g_build_filename(root, "p/a", NULL);
    g_autofree char *b = g_build_filename(root, "p/b", NULL);
    fill_page_cache(a, 80 * MiB);
    uint64_t before = cgtest_read_u64(a, "memory.current");
    g_assert_cmpuint(before, >=, 48 * MiB);

    Hog hog;
    const char *hargs[] = {"--cgroup", b, "--step", "1M", NULL};
    hog_start(&hog, hargs);
    g_assert_true(killed_by_sigkill(hog_wait(&hog, 120000)));
    uint64_t after = cgtest_read_u64(a, "memory.current");
    g_test_message("%s: a's page cache %" G_GUINT64_FORMAT " MiB before the sibling's hog, %" G_GUINT64_FORMAT
                   " MiB after",
                   with_min ? "min=96M" : "no min", before / MiB, after / MiB);
    g_assert_nonnull(daemontest_wait_record(&d, 5000, "\"group\":\"p\"", "\"comm\":\"memhog\""));
    daemontest_stop(&d);
    cgtest_remove_tree(root);
    return after * 100 / before;
}

static void test_protection(void)
{
    /* With memory.min the working set stays; without it, the sibling's pressure reclaims it, which
     * shows that the first assertion can fail. */
    for (guint it = 0; it < cgtest_iterations(); it++) {
        g_assert_cmpuint(protection_run(true), >=, 90);
        g_assert_cmpuint(protection_run(false), <, 90);
    }
}

static void expect_refused(const char *root, const char *arg, int exit_code, const char *needle)
{
    const char *args[] = {arg, NULL};
    g_autofree char *err = NULL;
    int code = daemontest_run_fail(root, args, &err);
    if (code != exit_code || !strstr(err, needle))
        g_error("memctld %s: expected exit %d and '%s', got exit %d: %s", arg, exit_code, needle, code, err);
}

static void bad_input_once(void)
{
    g_autofree char *root = cgtest_fresh_root("memctl-bad");
    expect_refused(root, "--group=t:limit=12Q", 2, "'limit'");
    expect_refused(root, "--group=t:bogus=1", 2, "unknown key 'bogus'");
    expect_refused(root, "--group=t:priority=0", 2, "'priority'");
    expect_refused(root, "--window-ms=0", 2, "--window-ms");
    /* option errors are found before anything is touched: not even the root exists */
    g_assert_false(g_file_test(root, G_FILE_TEST_EXISTS));

    expect_refused(root, "--group=t:min=200M,max=100M", 1, "'min'");
    expect_refused(root, "--group=t:limit=100M,max=200M", 1, "'max'");
    expect_refused(root, "--group=../escape:limit=1M", 1, "invalid group name");
    expect_refused(root, "--group=a/../../x", 1, "invalid group name");
    expect_refused(root, "--group=memctld", 1, "reserved");
    expect_refused(root, "--group=nothere/child", 1, "parent group 'nothere'");
    /* nothing half-created: the root holds only memctld's own leaf */
    g_autofree char *t = g_build_filename(root, "t", NULL);
    g_assert_false(g_file_test(t, G_FILE_TEST_EXISTS));
    g_autofree char *escape = g_build_filename(cgtest_mount(), "escape", NULL);
    g_assert_false(g_file_test(escape, G_FILE_TEST_EXISTS));
    g_autofree char *x = g_build_filename(cgtest_mount(), "x", NULL);
    g_assert_false(g_file_test(x, G_FILE_TEST_EXISTS));

    const char *outside[] = {NULL};
    g_autofree char *err = NULL;
    g_assert_cmpint(daemontest_run_fail("/tmp/memctl-not-a-cgroup", outside, &err), ==, 1);
    g_assert_nonnull(strstr(err, "not below the cgroup2 mount"));
    g_clear_pointer(&err, g_free);
    g_autofree char *dotdot = g_strdup_printf("%s/../etc", cgtest_mount());
    g_assert_cmpint(daemontest_run_fail(dotdot, outside, &err), ==, 1);
    g_assert_nonnull(strstr(err, "without '.', '..'"));
    g_clear_pointer(&err, g_free);
    const char *not_cgroup2[] = {"--cgroup-mount=/tmp", NULL};
    g_autofree char *nowhere = g_strdup_printf("/tmp/memctl-not-cgroup2.%d", (int)getpid());
    g_assert_false(g_file_test(nowhere, G_FILE_TEST_EXISTS));
    g_assert_cmpint(daemontest_run_fail(nowhere, not_cgroup2, &err), ==, 1);
    g_assert_nonnull(strstr(err, "is not a cgroup2 mount"));
    g_assert_false(g_file_test(nowhere, G_FILE_TEST_EXISTS));
    cgtest_remove_tree(root);
}

static void test_bad_input(void)
{
    for (guint it = 0; it < cgtest_iterations(); it++)
        bad_input_once();
}

/* WHY.md §3: the core detects, decides and kills while the GLib side is blocked. */
static void test_core_without_main_loop(void)
{
    g_autofree char *root = cgtest_fresh_root("memctl-blocked");
    DaemonTest d;
    const char *args[] = {"--group=t:limit=128M", "--test-hooks", NULL};
    daemontest_start(&d, root, args);
    g_autofree char *grp = g_build_filename(root, "t", NULL);
    g_assert_no_errno(kill(d.pid, SIGUSR2)); /* blocks the main loop for 20 s */
    g_usleep(200 * 1000);
    gint64 t0 = g_get_monotonic_time();
    Hog hog;
    const char *hargs[] = {"--cgroup", grp, "--step", "1M", NULL};
    hog_start(&hog, hargs);
    g_assert_true(killed_by_sigkill(hog_wait(&hog, 19000)));
    gint64 dt = g_get_monotonic_time() - t0;
    g_assert_cmpint(dt, <, 19 * G_USEC_PER_SEC); /* well inside the block */
    g_assert_cmpuint(cgtest_read_key(grp, "memory.events.local", "oom_kill"), ==, 0);
    /* the record was queued by the core and reaches the log once the main loop runs again */
    g_assert_cmpuint(daemontest_count_records(&d, "\"type\":\"kill\""), ==, 0);
    g_assert_nonnull(daemontest_wait_record(&d, 30000, "\"type\":\"kill\"", "\"group\":\"t\""));
    g_test_message("hog killed %.2f s after it started, with the main loop blocked", dt / 1e6);
    daemontest_stop(&d);
    cgtest_remove_tree(root);
}

/*
 * Every kill is recorded, even when the events ring is full: ten groups' hogs are killed while the
 * main loop is blocked, with a ring of 16 events (--events-ring) that their twenty events (a
 * "high" notice and a kill record each) overflow. The notices leave a quarter of the ring to the
 * rest, and the records that still find it full are offered again; all ten reach the kill log once
 * the main loop runs again. Before, the last events pushed into a full ring were dropped.
 */
static void test_records_kept(void)
{
    enum { N = 10 };
    g_autofree char *root = cgtest_fresh_root("memctl-records-kept");
    g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
    for (int k = 0; k < N; k++)
        g_ptr_array_add(args, g_strdup_printf("--group=g%d:limit=48M", k));
    g_ptr_array_add(args, g_strdup("--test-hooks"));
    g_ptr_array_add(args, g_strdup("--events-ring=16"));
    g_ptr_array_add(args, NULL);
    DaemonTest d;
    daemontest_start(&d, root, (const char **)args->pdata);
    g_assert_no_errno(kill(d.pid, SIGUSR2)); /* blocks the main loop for 20 s */
    g_usleep(200 * 1000);
    Hog hogs[N];
    int pids[N];
    for (int k = 0; k < N; k++) {
        g_autofree char *grp = g_strdup_printf("%s/g%d", root, k);
        hog_start(&hogs[k], (const char *[]){"--cgroup", grp, "--step", "1M", NULL});
        pids[k] = (int)hogs[k].pid;
    }
    for (int k = 0; k < N; k++)
        g_assert_true(killed_by_sigkill(hog_wait(&hogs[k], 19000)));
    g_assert_cmpuint(daemontest_count_records(&d, "\"type\":\"kill\""), ==, 0); /* still blocked */
    for (int k = 0; k < N; k++) {
        g_autofree char *needle = g_strdup_printf("\"pid\":%d,", pids[k]);
        if (!daemontest_wait_record(&d, 30000, needle, "\"type\":\"kill\""))
            g_error("the kill of hog %d in g%d has no record (%u of %d recorded)", pids[k], k,
                    daemontest_count_records(&d, "\"type\":\"kill\""), N);
    }
    daemontest_stop(&d);
    cgtest_remove_tree(root);
}

/* A group with only memory.max: memctld does not decide there, the kernel kills, memctld records it. */
static void test_kernel_oom_recorded(void)
{
    g_autofree char *root = cgtest_fresh_root("memctl-kernel-oom");
    DaemonTest d;
    const char *args[] = {"--group=k:max=64M", NULL};
    daemontest_start(&d, root, args);
    g_autofree char *grp = g_build_filename(root, "k", NULL);
    for (guint it = 0; it < cgtest_iterations(); it++) {
        Hog hog;
        const char *hargs[] = {"--cgroup", grp, "--step", "1M", NULL};
        hog_start(&hog, hargs);
        g_assert_true(killed_by_sigkill(hog_wait(&hog, 120000)));
    }
    uint64_t oom_kill = cgtest_read_key(grp, "memory.events.local", "oom_kill");
    g_assert_cmpuint(oom_kill, ==, cgtest_iterations());
    g_assert_nonnull(daemontest_wait_record(&d, 5000, "\"type\":\"kernel-oom-kill\"", "\"group\":\"k\""));
    /* counted, not guessed: the records add up to the kernel's own counter (inotify may coalesce) */
    g_autofree char *log = NULL;
    g_assert_true(g_file_get_contents(d.kill_log, &log, NULL, NULL));
    guint64 recorded = 0;
    for (const char *p = log; (p = strstr(p, "\"type\":\"kernel-oom-kill\"")); p++) {
        const char *n = strstr(p, "\"processes\":");
        g_assert_nonnull(n);
        recorded += g_ascii_strtoull(n + 12, NULL, 10);
    }
    g_assert_cmpuint(recorded, ==, oom_kill);
    g_assert_cmpuint(daemontest_count_records(&d, "\"type\":\"kill\""), ==, 0);
    daemontest_stop(&d);
    cgtest_remove_tree(root);
}

static void test_adopt(void)
{
    g_autofree char *root = cgtest_fresh_root("memctl-adopt");
    g_free(cgtest_mkdir(cgtest_mount(), strrchr(root, '/') + 1));
    g_assert_cmpint(cgtest_write(root, "cgroup.subtree_control", "+memory"), ==, 0);
    g_autofree char *grp = cgtest_mkdir(root, "old");
    g_assert_cmpint(cgtest_write(grp, "memory.max", "134217728"), ==, 0);
    g_assert_cmpint(cgtest_write(grp, "memory.high", "125829120"), ==, 0);
    g_assert_cmpint(cgtest_write(grp, "memory.low", "4194304"), ==, 0);

    DaemonTest d;
    const char *args[] = {NULL};
    daemontest_start(&d, root, args);
    /* read back, never reset */
    g_assert_cmpuint(cgtest_read_u64(grp, "memory.max"), ==, 128 * MiB);
    g_assert_cmpuint(cgtest_read_u64(grp, "memory.high"), ==, 120 * MiB);
    g_assert_cmpuint(cgtest_read_u64(grp, "memory.low"), ==, 4 * MiB);
    hog_until_killed(&d, grp, "anon");
    g_assert_nonnull(daemontest_wait_record(&d, 5000, "\"group\":\"old\"", "\"type\":\"kill\""));
    g_assert_cmpuint(cgtest_read_key(grp, "memory.events.local", "oom_kill"), ==, 0);
    daemontest_stop(&d);
    /* a restart adopts again and still changes nothing */
    daemontest_start(&d, root, args);
    g_assert_cmpuint(cgtest_read_u64(grp, "memory.high"), ==, 120 * MiB);
    daemontest_stop(&d);
    cgtest_remove_tree(root);
}

/* Every group g000..g<n-1> below the root is managed with its own memory.high, (64 + i) MiB, and a
 * scrape (its groups read on several threads) reads each. */
static void assert_adopted_high(DaemonTest *d, int n)
{
    Reply r = http_get(daemontest_metrics_port(d), "/metrics", NULL);
    g_assert_cmpint(r.status, ==, 200);
    for (int i = 0; i < n; i++) {
        g_autofree char *prefix = g_strdup_printf("memctl_group_memory_high_bytes{group=\"g%03d\"}", i);
        double want = (64.0 + i) * MiB, have = http_sample_value(r.body, prefix);
        if (have != want)
            g_error("g%03d adopted with memory.high %.0f, its cgroup has %.0f", i, have, want);
        g_autofree char *current = g_strdup_printf("memctl_group_memory_current_bytes{group=\"g%03d\"}", i);
        if (http_sample_value(r.body, current) < 0)
            g_error("the scrape has no memory.current of g%03d", i);
    }
    http_reply_clear(&r);
}

/*
 * Adoption of many groups, flat (no group has children: none is listed, cgroup.stat says so) and
 * nested (then every group is listed), and what each costs the kernel: no PSI trigger, so no kernel
 * thread, per group (docs/BENCHMARKS.md, scale). Enough groups that they are opened on several
 * threads: each is adopted with its own values. A hog in the last group adopted is killed by memctld.
 */
static void test_adopt_many(void)
{
    enum { N = 200 };
    g_autofree char *root = cgtest_root_new("memctl-adopt-many");
    g_autofree char *last = NULL;
    for (int i = 0; i < N; i++) {
        g_autofree char *name = g_strdup_printf("g%03d", i);
        g_autofree char *high = g_strdup_printf("%" G_GUINT64_FORMAT, (64 + (guint64)i) * MiB);
        g_free(last);
        last = cgtest_mkdir(root, name);
        g_assert_cmpint(cgtest_write(last, "memory.max", "536870912"), ==, 0);
        g_assert_cmpint(cgtest_write(last, "memory.high", high), ==, 0);
    }
    guint psimon_before = cgtest_psimon_threads();
    DaemonTest d;
    const char *args[] = {"--metrics-address=127.0.0.1:0", NULL};
    daemontest_start(&d, root, args);
    g_autofree char *said = g_strdup_printf("%u group(s) (%u adopted)", N, N);
    g_assert_cmpuint(daemontest_count_log(&d, said), >, 0);
    assert_adopted_high(&d, N);
    /* the host's trigger may start one (the root's psimon); no group adds its own */
    g_assert_cmpuint(cgtest_psimon_threads(), <=, psimon_before + 1);
    hog_until_killed(&d, last, "anon");
    g_assert_nonnull(daemontest_wait_record(&d, 5000, "\"group\":\"g199\"", "\"type\":\"kill\""));
    daemontest_stop(&d);

    /* nested: n/c below n; both adopted, with the rest */
    g_autofree char *n = cgtest_mkdir(root, "n");
    g_assert_cmpint(cgtest_write(n, "cgroup.subtree_control", "+memory"), ==, 0);
    g_autofree char *c = cgtest_mkdir(n, "c");
    g_assert_cmpint(cgtest_write(c, "memory.max", "134217728"), ==, 0);
    g_assert_cmpint(cgtest_write(c, "memory.high", "125829120"), ==, 0);
    daemontest_start(&d, root, args);
    g_free(said);
    said = g_strdup_printf("%u group(s) (%u adopted)", N + 2, N + 2);
    g_assert_cmpuint(daemontest_count_log(&d, said), >, 0);
    assert_adopted_high(&d, N);
    hog_until_killed(&d, c, "anon");
    g_assert_nonnull(daemontest_wait_record(&d, 5000, "\"group\":\"n\\/c\"" /* json-c escapes the slash */,
                                            "\"type\":\"kill\""));
    daemontest_stop(&d);
    cgtest_remove_tree(root);
}

/* The readdir position of `name` among the cgroups in `dir` (memctld adopts in that order), or -1. */
static int readdir_position(const char *dir, const char *name)
{
    DIR *d = opendir(dir);
    g_assert_nonnull(d);
    int pos = 0, found = -1;
    for (struct dirent *e; (e = readdir(d)) && found < 0;) {
        if (e->d_type != DT_DIR || e->d_name[0] == '.')
            continue;
        if (strcmp(e->d_name, name) == 0)
            found = pos;
        pos++;
    }
    closedir(d);
    return found;
}

typedef struct {
    int pidfd;
    gint64 dead_usec; /* monotonic; 0 while alive */
} DeathWatch;

static gpointer death_watch_thread(gpointer data)
{
    DeathWatch *w = data;
    struct pollfd p = {.fd = w->pidfd, .events = POLLIN};
    while (poll(&p, 1, 120000) < 0 && errno == EINTR)
        ;
    if (p.revents & POLLIN)
        g_atomic_pointer_set((gpointer *)&w->dead_usec, (gpointer)(gintptr)g_get_monotonic_time());
    return NULL;
}

/*
 * The core protects each group from the moment it is adopted, not once every group is (a restart on
 * a host with thousands of groups, mid-crisis). A hog already over memory.high in a group adopted
 * early among 1,500 is killed by memctld before memctld is ready, that is, while the rest are still
 * being adopted; the kernel kills nothing.
 */
static void test_adopt_armed_early(void)
{
    enum { N = 1500 };
    g_autofree char *root = cgtest_root_new("memctl-adopt-armed");
    for (int i = 0; i < N; i++) {
        g_autofree char *name = g_strdup_printf("m%04d", i);
        g_autofree char *m = cgtest_mkdir(root, name);
    }
    /* a name that kernfs lists (and so memctld adopts) among the first tenth: its order is a hash's */
    g_autofree char *grp = NULL, *name = NULL;
    for (int i = 0; i < 64 && !grp; i++) {
        g_free(name);
        name = g_strdup_printf("hog%d", i);
        g_autofree char *path = cgtest_mkdir(root, name);
        int pos = readdir_position(root, name);
        if (pos >= 0 && pos < N / 10)
            grp = g_steal_pointer(&path);
        else
            g_assert_no_errno(rmdir(path));
    }
    g_assert_nonnull(grp);
    g_assert_cmpint(cgtest_write(grp, "memory.max", "536870912"), ==, 0);
    g_assert_cmpint(cgtest_write(grp, "memory.high", "67108864"), ==, 0);
    Hog h;
    hog_start(&h, (const char *[]){"--cgroup", grp, "--step", "1M", "--total", "300M", NULL});
    int pid = (int)h.pid;
    for (int i = 0; i < 600 && cgtest_read_key(grp, "memory.events.local", "high") == 0; i++)
        g_usleep(50 * 1000);
    g_assert_cmpuint(cgtest_read_key(grp, "memory.events.local", "high"), >, 0); /* throttled at high */
    DeathWatch w = {.pidfd = (int)syscall(SYS_pidfd_open, pid, 0)};
    g_assert_cmpint(w.pidfd, >=, 0);
    GThread *t = g_thread_new("death", death_watch_thread, &w);

    DaemonTest d;
    gint64 t0 = g_get_monotonic_time();
    daemontest_start(&d, root, (const char *[]){"--max-groups=2048", NULL});
    gint64 t_ready = g_get_monotonic_time();
    int status = hog_wait(&h, 60000);
    g_thread_join(t);
    close(w.pidfd);
    g_assert_true(killed_by_sigkill(status));
    gint64 t_dead = (gint64)(gintptr)g_atomic_pointer_get((gpointer *)&w.dead_usec);
    g_assert_cmpint(t_dead, >, 0);
    g_test_message("%s (adopted among the first %d of %d): killed %.0f ms after memctld started, which was "
                   "ready after %.0f ms",
                   name, N / 10, N + 1, (double)(t_dead - t0) / 1000, (double)(t_ready - t0) / 1000);
    g_assert_cmpint(t_dead, <, t_ready);
    g_autofree char *said = g_strdup_printf("%u group(s) (%u adopted)", N + 1, N + 1);
    if (daemontest_count_log(&d, said) == 0) {
        g_autofree char *log = NULL;
        g_file_get_contents(d.log, &log, NULL, NULL);
        g_error("memctld did not say '%s': %s", said, log);
    }
    g_autofree char *needle = g_strdup_printf("\"pid\":%d,", pid);
    g_assert_nonnull(daemontest_wait_record(&d, 10000, needle, "\"type\":\"kill\""));
    g_assert_cmpuint(cgtest_read_key(grp, "memory.events.local", "oom_kill"), ==, 0);
    daemontest_stop(&d);
    cgtest_remove_tree(root);
}

static void make_groups(const char *root, const char *prefix, int n)
{
    for (int i = 0; i < n; i++) {
        g_autofree char *name = g_strdup_printf("%s%04d", prefix, i);
        g_free(cgtest_mkdir(root, name));
    }
}

static void remove_groups(const char *root, const char *prefix, int n)
{
    for (int i = 0; i < n; i++) {
        g_autofree char *path = g_strdup_printf("%s/%s%04d", root, prefix, i);
        g_assert_no_errno(rmdir(path));
    }
}

/* SIGHUP, and the reload's "reload: N change(s)" line, the `nth` of its kind. */
static void reload_and_wait(DaemonTest *d, guint nth)
{
    g_assert_no_errno(kill(d->pid, SIGHUP));
    g_assert_cmpuint(daemontest_wait_log(d, "change(s)", nth, 30000), >=, nth);
}

/*
 * More groups go at once than the core's events ring holds (1,024): a rescan after a runtime removed
 * its containers. Each removed group's slot is freed by the GROUP_RELEASED event the core sends; the
 * ones a full ring dropped stayed retired for good, fds open, and as many new groups could not be
 * adopted afterwards (--max-groups is exactly the number of groups here).
 */
static void test_mass_removal(void)
{
    enum { N = 1100 };
    g_autofree char *root = cgtest_root_new("memctl-mass-removal");
    make_groups(root, "a", N);
    DaemonTest d;
    g_autofree char *max = g_strdup_printf("--max-groups=%d", N);
    daemontest_start(&d, root, (const char *[]){max, NULL});
    g_autofree char *said = g_strdup_printf("%u group(s) (%u adopted)", N, N);
    g_assert_cmpuint(daemontest_count_log(&d, said), >, 0);
    remove_groups(root, "a", N);
    reload_and_wait(&d, 1);
    g_autofree char *gone = g_strdup_printf("reload: %d change(s)", N);
    g_assert_cmpuint(daemontest_count_log(&d, gone), >, 0);
    g_usleep(G_USEC_PER_SEC); /* the releases the ring had no room for are offered every 100 ms */
    make_groups(root, "b", N);
    reload_and_wait(&d, 2);
    /* the change lines follow the count line */
    for (int i = 0;
         i < 200 &&
         daemontest_count_log(&d, "reload: adopted b") + daemontest_count_log(&d, "not adopted") < N;
         i++)
        g_usleep(50 * 1000);
    g_autofree char *log = NULL;
    g_file_get_contents(d.log, &log, NULL, NULL);
    const char *skipped = strstr(log, "not adopted");
    if (skipped)
        g_error("after %d groups went at once, new ones were not adopted: %.*s", N,
                (int)strcspn(skipped, "\n"), skipped);
    g_assert_cmpuint(daemontest_count_log(&d, gone), ==, 2); /* N gone, then N adopted */
    g_assert_cmpuint(daemontest_count_log(&d, "reload: adopted b"), ==, N);
    daemontest_stop(&d);
    cgtest_remove_tree(root);
}

static char proc_state(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *s = NULL;
    if (!g_file_get_contents(path, &s, NULL, NULL))
        return '?';
    const char *p = strrchr(s, ')');
    return p && p[1] == ' ' ? p[2] : '?';
}

/*
 * The livelock of WHY.md §1: the chosen victim cannot exit (it sleeps uninterruptibly on a frozen
 * filesystem) and its memory (shmem, which neither process_mrelease nor the OOM reaper can free)
 * does not come back. memctld must escalate to the next victim on measured lack of progress, say
 * so in the record, and never kill the stuck process twice; the kernel must not kill anything.
 */
static void test_livelock(void)
{
    FreezableFs fs;
    if (!freezable_fs_setup(&fs)) {
        freezable_fs_teardown(&fs);
        return;
    }
    g_autofree char *root = cgtest_fresh_root("memctl-livelock");
    DaemonTest d;
    const char *args[] = {"--group=t:limit=128M", NULL};
    daemontest_start(&d, root, args);
    g_autofree char *grp = g_build_filename(root, "t", NULL);
    for (guint it = 0; it < cgtest_iterations(); it++) {
        freezable_fs_freeze(&fs, true);
        Hog stuck, hog;
        const char *sargs[] = {"--cgroup",   grp,      "--mode", "shmem",           "--total",
                               "80M",        "--step", "4M",     "--oom-score-adj", "1000",
                               "--block-on", fs.file,  NULL};
        hog_start(&stuck, sargs);
        g_assert_true(hog_wait_line(&stuck, "blocking", 30000));
        for (int k = 0; k < 500 && proc_state(stuck.pid) != 'D'; k++)
            g_usleep(10 * 1000);
        g_assert_cmpint(proc_state(stuck.pid), ==, 'D');

        const char *hargs[] = {"--cgroup", grp, "--step", "1M", NULL};
        hog_start(&hog, hargs);
        int hog_pid = (int)hog.pid;
        int status = hog_wait(&hog, 120000);
        g_autofree char *err = hog_stderr(&hog);
        if (!killed_by_sigkill(status) || strstr(err, "memhog:"))
            g_error("the hog was not cleanly SIGKILLed: status %d, stderr: %s", status, err);

        /* the stuck process was chosen first (oom_score_adj 1000), did not exit, and is still stuck */
        g_autofree char *first = g_strdup_printf("\"pid\":%d,", (int)stuck.pid);
        g_autofree char *rec1 = daemontest_wait_record(&d, 10000, first, "\"type\":\"kill\"");
        g_assert_nonnull(rec1);
        g_assert_nonnull(strstr(rec1, "\"signal_to_exit_usec\":0"));
        g_assert_nonnull(strstr(rec1, "\"livelock\":false"));
        g_assert_true(hog_alive(&stuck));
        g_assert_cmpint(proc_state(stuck.pid), ==, 'D');
        /* the escalation to the hog says livelock */
        g_autofree char *second = g_strdup_printf("\"pid\":%d,", hog_pid);
        g_autofree char *rec2 = daemontest_wait_record(&d, 10000, second, "\"livelock\":true");
        if (!rec2)
            g_error("no livelock record for the hog %d; stuck victim's record: %s", hog_pid, rec1);

        /* thawed, the stuck process dies of memctld's SIGKILL and its memory comes back */
        freezable_fs_freeze(&fs, false);
        g_assert_true(killed_by_sigkill(hog_wait(&stuck, 30000)));
        g_test_message("stuck victim: %s", rec1);
        g_test_message("escalated: %s", rec2);
    }
    /* one kill each: the stuck process was never chosen twice */
    g_assert_cmpuint(daemontest_wait_count(&d, "\"type\":\"kill\"", 2 * cgtest_iterations(), 5000), ==,
                     2 * cgtest_iterations());
    g_assert_cmpuint(daemontest_count_records(&d, "\"livelock\":true"), ==, cgtest_iterations());
    g_assert_cmpuint(cgtest_read_key(grp, "memory.events.local", "oom_kill"), ==, 0);
    daemontest_stop(&d);
    cgtest_remove_tree(root);
    freezable_fs_teardown(&fs);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    cgtest_require_cgroup2();
    g_test_add_func("/core/enomem", test_enomem);
    g_test_add_func("/core/enomem-control", test_enomem_control);
    g_test_add_func("/core/collateral", test_collateral);
    g_test_add_func("/core/group-kill", test_group_kill);
    g_test_add_func("/core/protection", test_protection);
    g_test_add_func("/core/bad-input", test_bad_input);
    g_test_add_func("/core/core-without-main-loop", test_core_without_main_loop);
    g_test_add_func("/core/kernel-oom-recorded", test_kernel_oom_recorded);
    g_test_add_func("/core/adopt", test_adopt);
    g_test_add_func("/core/adopt-many", test_adopt_many);
    g_test_add_func("/core/adopt-armed-early", test_adopt_armed_early);
    g_test_add_func("/core/mass-removal", test_mass_removal);
    g_test_add_func("/core/records-kept", test_records_kept);
    g_test_add_func("/core/livelock", test_livelock);
    return g_test_run();
}
