/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Knowledge first (docs/POLICY.md, policy/reclaim.c), on the real kernel: a group over high by more
 * than reclaim could free is killed at that event, within a fraction of one decision window; a
 * group whose overage reclaim can cover (page cache it may drop, anonymous pages it may swap) is
 * never killed for it. The windows are set long here (500 ms, 4 of them: 2 s before a window
 * verdict), so that a kill on the windows cannot pass for one on knowledge. A group hovering at high
 * by less than the progress floor is killed by neither path (the hover tests run the default windows).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/cgtest.h"
#include "tests/lib/daemontest.h"
#include "tests/lib/zram.h"

#define MiB ((uint64_t)1024 * 1024)
#define WINDOW_MS 500

static const char *const long_windows[] = {"--window-ms=500", "--stuck-windows=4"};

/* Starts memctld on a fresh root (returned, to free) with one group `t` of `limit` and the long
 * windows; *ret_grp is t's path. */
static char *start(DaemonTest *d, const char *prefix, const char *limit, char **ret_grp)
{
    char *root = cgtest_fresh_root(prefix);
    g_autofree char *group = g_strdup_printf("--group=t:limit=%s", limit);
    const char *args[] = {group, long_windows[0], long_windows[1], NULL};
    daemontest_start(d, root, args);
    *ret_grp = g_build_filename(root, "t", NULL);
    return root;
}

/* The workloads that take long under TCG run at most 3 times. */
static guint few_runs(void)
{
    guint n = cgtest_iterations();
    return n < 3 ? n : 3;
}

static uint64_t record_u64(const char *rec, const char *key)
{
    g_autofree char *k = g_strdup_printf("\"%s\":", key);
    const char *p = strstr(rec, k);
    if (!p)
        g_error("no %s in the record: %s", key, rec);
    return g_ascii_strtoull(p + strlen(k), NULL, 10);
}

/* Starts an anonymous hog growing 8M at a time in grp and waits for it to die: it must be SIGKILLed
 * by memctld on knowledge (no-reclaim) within a window, with no allocation failure before. Returns
 * its kill record. */
static char *hog_killed_on_knowledge(DaemonTest *d, const char *grp)
{
    Hog h;
    const char *args[] = {"--cgroup", grp, "--step", "8M", NULL};
    hog_start(&h, args);
    int pid = (int)h.pid;
    int status = hog_wait(&h, 120000);
    g_autofree char *err = hog_stderr(&h);
    g_assert_true(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    g_assert_null(strstr(err, "memhog:")); /* no allocation failure before the kill */
    g_autofree char *needle = g_strdup_printf("\"pid\":%d,", pid);
    char *rec = daemontest_wait_record(d, 10000, needle, "\"type\":\"kill\"");
    g_assert_nonnull(rec);
    if (!strstr(rec, "\"reason\":\"no-reclaim\""))
        g_error("killed, but not on knowledge: %s", rec);
    g_assert_cmpuint(record_u64(rec, "event_to_signal_usec"), <, WINDOW_MS * 1000); /* not one window */
    return rec;
}

/* No swap, no cache: an anonymous hog over high is killed at the crossing's events, long before the
 * first window could end, and its record says why and what reclaim could have freed. */
static void test_no_reclaim_at_once(void)
{
    DaemonTest d;
    g_autofree char *grp = NULL;
    g_autofree char *root = start(&d, "memctl-knowledge", "128M", &grp);
    uint64_t worst = 0;
    for (guint it = 0; it < cgtest_iterations(); it++) {
        g_autofree char *rec = hog_killed_on_knowledge(&d, grp);
        uint64_t lat = record_u64(rec, "event_to_signal_usec");
        uint64_t could = record_u64(rec, "reclaimable_bytes");
        g_assert_cmpuint(could, <, record_u64(rec, "current") - record_u64(rec, "high"));
        worst = lat > worst ? lat : worst;
    }
    g_assert_cmpuint(cgtest_read_key(grp, "memory.events.local", "oom_kill"), ==, 0);
    g_test_message("%u hogs killed on knowledge; worst crossing -> SIGKILL %.1f ms (a window: %d ms)",
                   cgtest_iterations(), worst / 1000.0, WINDOW_MS);
    daemontest_stop(&d);
    cgtest_remove_tree(root);
}

/* Runs `cat file` in grp; returns its wait status. */
static int cat_in(const char *grp, const char *file)
{
    const char *argv[] = {"/bin/sh", "-c", "echo $$ > \"$0/cgroup.procs\" && exec cat \"$1\" > /dev/null",
                          grp,       file, NULL};
    gint status = -1;
    g_assert_true(
            g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status, NULL));
    return status;
}

/* A group whose usage is page cache it may drop: reading 4x its limit through it is reclaim's job,
 * never a kill. */
static void test_cache_no_kill(void)
{
    int n = -1;
    char *dir = zram_ext4_mount(512 * MiB, &n);
    if (!dir)
        return;
    g_autofree char *file = g_build_filename(dir, "data", NULL);
    g_autofree char *of = g_strdup_printf("of=%s", file);
    const char *dd[] = {"dd", "if=/dev/zero", of, "bs=1M", "count=256", "status=none", NULL};
    gint st = -1;
    g_assert_true(
            g_spawn_sync(NULL, (char **)dd, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &st, NULL));
    g_assert_true(g_spawn_check_wait_status(st, NULL));
    sync();
    g_assert_cmpint(cgtest_write("/proc/sys/vm", "drop_caches", "1"), ==, 0); /* read back by the group */

    DaemonTest d;
    g_autofree char *grp = NULL;
    g_autofree char *root = start(&d, "memctl-knowledge-cache", "64M", &grp);
    guint runs = few_runs();
    for (guint it = 0; it < runs; it++) {
        g_assert_cmpint(cgtest_write("/proc/sys/vm", "drop_caches", "1"), ==, 0);
        int status = cat_in(grp, file);
        g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    /* It really was over high, and reclaim, not a kill, brought it back. */
    uint64_t high = cgtest_read_key(grp, "memory.events.local", "high");
    uint64_t steal = cgtest_read_key(grp, "memory.stat", "pgsteal");
    g_assert_cmpuint(high, >, 0);
    g_assert_cmpuint(steal * 4096, >, 64 * MiB);
    g_assert_cmpuint(daemontest_count_records(&d, "\"type\":\"kill\""), ==, 0);
    g_assert_cmpuint(cgtest_read_key(grp, "memory.events.local", "oom_kill"), ==, 0);
    g_test_message("%u reads of 256 MiB through a 64 MiB group: %" G_GUINT64_FORMAT
                   " high events, %" G_GUINT64_FORMAT " MiB reclaimed, no kill",
                   runs, high, steal * 4096 / MiB);
    daemontest_stop(&d);
    cgtest_remove_tree(root);
    zram_ext4_unmount(n, dir);
}

/* memctld on a fresh root with 512 MiB of zram swap and one group t of `limit`. */
typedef struct {
    DaemonTest d;
    char *root, *grp, *dev;
    int z;
} Swapped;

/* false when there is no zram (the test is skipped: zram_swap_on() said why) */
static bool swapped_start(Swapped *x, const char *prefix, const char *limit)
{
    x->dev = NULL;
    x->z = zram_swap_on(512 * MiB, &x->dev);
    if (x->z < 0)
        return false;
    x->root = start(&x->d, prefix, limit, &x->grp);
    return true;
}

static void swapped_stop(Swapped *x)
{
    daemontest_stop(&x->d);
    cgtest_remove_tree(x->root);
    zram_swap_off(x->z, x->dev);
    g_free(x->root);
    g_free(x->grp);
}

/* A group that may swap: anonymous pages over high go out to swap, so reclaim covers the overage
 * and memctld waits for the windows, which see the swap-out as progress: no kill. */
static void test_swap_no_kill(void)
{
    Swapped x;
    if (!swapped_start(&x, "memctl-knowledge-swap", "128M"))
        return;
    const char *grp = x.grp;
    guint runs = few_runs();
    for (guint it = 0; it < runs; it++) {
        Hog h;
        const char *args[] = {"--cgroup", grp, "--step", "1M", "--total", "192M", "--hold", NULL};
        hog_start(&h, args);
        g_assert_true(hog_wait_line(&h, "grown", 120000));
        g_usleep(WINDOW_MS * 1000 * 2);
        g_assert_true(hog_alive(&h));
        g_assert_cmpuint(cgtest_read_u64(grp, "memory.swap.current"), >, 32 * MiB);
        (void)hog_kill(&h);
    }
    g_assert_cmpuint(daemontest_count_records(&x.d, "\"type\":\"kill\""), ==, 0);
    g_assert_cmpuint(cgtest_read_key(grp, "memory.events.local", "oom_kill"), ==, 0);
    swapped_stop(&x);
}

/* The same swap, but the group may not use it (swap_max 0, which memctld writes and then knows
 * without reading the file back): nothing reclaim could do covers the overage, so the hog is killed
 * on knowledge at the crossing, as with no swap at all. */
static void test_swap_max_zero_kills(void)
{
    Swapped x;
    if (!swapped_start(&x, "memctl-knowledge-swapmax", "128M,swap_max=0"))
        return;
    g_assert_cmpuint(cgtest_read_u64(x.grp, "memory.swap.max"), ==, 0);
    g_free(hog_killed_on_knowledge(&x.d, x.grp));
    g_assert_cmpuint(cgtest_read_u64(x.grp, "memory.swap.current"), ==, 0);
    swapped_stop(&x);
}

/* A group at its threshold with nothing reclaim could free: a process holds the group within 512 KiB
 * of high (it may not swap), then maps, touches and unmaps 640 KiB every 5 ms, so the group crosses high at
 * every probe by less than the progress floor and falls back under it. (memory.current moves in the kernel's
 * charge batches, 256 KiB: the group stops 256-512 KiB under high and peaks up to about 0.65 MiB over it.)
 * The kernel barely throttles such a group (its penalty starts at about 1.25 % over high). Its 48 MiB are
 * partly huge pages: khugepaged, which scans every 10 s, charges the group a huge page before it frees the
 * pages it replaces, 2 MiB more for a moment. Returns memctld's root; *ret_grp is t. */
static char *hover_start(DaemonTest *d, const char *prefix, char **ret_grp, Hog *ret_hog)
{
    char *root = cgtest_fresh_root(prefix);
    const char *args[] = {"--group=t:limit=64M,swap_max=0", NULL}; /* no swap; the default windows */
    daemontest_start(d, root, args);
    *ret_grp = g_build_filename(root, "t", NULL);
    const char *hargs[] = {"--cgroup", *ret_grp,     "--total", "48M",          "--hold", "--near-high",
                           "512K",     "--probe-ms", "5",       "--probe-size", "640K",   NULL};
    hog_start(ret_hog, hargs);
    g_autofree char *line = hog_read_line(ret_hog, "near-high ", 120000);
    g_assert_nonnull(line);
    g_test_message("%s", line);
    return root;
}

/* The hovering group is not killed, on knowledge or on the windows, for 10 s (a khugepaged scan
 * included): what it uses (memory.current less what is charged ahead of use, the huge page being
 * collapsed among it) stays within the progress floor over high, and the kernel lets it run. It did
 * cross high, many times, with nothing reclaim could free: no file pages, no swap. (Before the
 * band, the windows killed it for no-progress in 4 runs of 4; with the band measured on
 * memory.current, the knowledge rule killed it at khugepaged's charge in 5 of 5.) */
static void test_hover_no_kill(void)
{
    DaemonTest d;
    Hog h;
    g_autofree char *grp = NULL;
    g_autofree char *root = hover_start(&d, "memctl-knowledge-hover", &grp, &h);
    uint64_t high0 = cgtest_read_key(grp, "memory.events.local", "high");
    g_usleep(10 * G_USEC_PER_SEC); /* 200 of the default 50 ms windows */
    uint64_t crossings = cgtest_read_key(grp, "memory.events.local", "high") - high0;
    uint64_t over = cgtest_read_u64(grp, "memory.peak") - cgtest_read_u64(grp, "memory.high");
    if (!hog_alive(&h)) {
        g_autofree char *rec = daemontest_wait_record(&d, 1000, "\"type\":\"kill\"", NULL);
        g_error("the hovering group was killed: %s", rec ? rec : "(no record: not by memctld)");
    }
    g_test_message("10 s hovering: %" G_GUINT64_FORMAT " high events, peak %" G_GUINT64_FORMAT
                   " KiB over high",
                   crossings, over / 1024);
    g_assert_cmpuint(crossings, >=, 10);
    g_assert_cmpuint(over, >, 0);
    g_assert_cmpuint(cgtest_read_key(grp, "memory.stat", "file"), ==, 0);
    g_assert_cmpuint(cgtest_read_u64(grp, "memory.swap.current"), ==, 0);
    g_assert_cmpuint(daemontest_count_records(&d, "\"type\":\"kill\""), ==, 0);
    g_assert_cmpuint(cgtest_read_key(grp, "memory.events.local", "oom_kill"), ==, 0);
    (void)hog_kill(&h);
    daemontest_stop(&d);
    cgtest_remove_tree(root);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/knowledge/no-reclaim-at-once", test_no_reclaim_at_once);
    g_test_add_func("/knowledge/cache-no-kill", test_cache_no_kill);
    g_test_add_func("/knowledge/swap-no-kill", test_swap_no_kill);
    g_test_add_func("/knowledge/swap-max-zero-kills", test_swap_max_zero_kills);
    g_test_add_func("/knowledge/hover-no-kill", test_hover_no_kill);
    return g_test_run();
}
