/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Proactive reclaim paced by pressure (docs/POLICY.md, "Right-sizing"), on the real kernel: a
 * service (tests/lib/service) reads a cold file once, then serves a hot file and hot anonymous
 * memory in a loop; its files live on ext4 on a zram disk (the VM's root is 9p: no page cache that
 * reclaim could drop and refault). memctld samples every second (daemon.reclaim_interval_ms).
 *
 *  - reclaim off (the default): nothing is written and no thread or timer runs for it;
 *  - reclaim=auto: the usage falls to under half, the working set estimate lands within 15% of the
 *    hot set, and it is shown on the bus, in the metrics and by memctl suggest;
 *  - memory.low and reclaim_floor are floors it never goes under;
 *  - a group that grows gets its memory at once (memory.reclaim sets no limit);
 *  - at a target below what any refault costs, every breach is followed by an interval without a
 *    step, and the working set is a measure;
 *  - with the host short of memory (the guard armed), no step at all until it disarms.
 */
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "include/memctl/memctl.h"
#include "tests/lib/bustest.h"
#include "tests/lib/cgtest.h"
#include "tests/lib/httptest.h"
#include "tests/lib/zram.h"

#define MiB ((uint64_t)1024 * 1024)
#define COLD (160 * MiB)
#define HOT_FILE (16 * MiB)
#define HOT_ANON (16 * MiB)

typedef struct {
    ApiTest api;
    char *config_dir, *mnt, *cold, *hot, *group;
    int zram;
    Hog svc;
    bool running;
} ReclaimTest;

/* A file of `size` bytes of a repeated pattern (zram keeps it small; the page cache holds it all),
 * written back so that its pages are clean. */
static void write_file(const char *path, uint64_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    g_assert_cmpint(fd, >=, 0);
    g_autofree char *buf = g_malloc(MiB);
    for (uint64_t i = 0; i < MiB; i++)
        buf[i] = (char)('a' + i % 23);
    for (uint64_t done = 0; done < size; done += MiB)
        g_assert_cmpint(write(fd, buf, MiB), ==, (ssize_t)MiB);
    g_assert_cmpint(fsync(fd), ==, 0);
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
}

/* memctld with the policy's groups (JSON members of "groups"), a one-second interval, more members
 * of "daemon" (daemon_json) and more top-level sections (extra); NULL: none. */
static void start_with(ReclaimTest *t, const char *prefix, const char *groups_json, const char *daemon_json,
                       const char *extra)
{
    memset(t, 0, sizeof(*t));
    t->mnt = zram_ext4_mount(512 * MiB, &t->zram);
    if (!t->mnt)
        return; /* skipped, and said why */
    t->cold = g_build_filename(t->mnt, "cold", NULL);
    t->hot = g_build_filename(t->mnt, "hot", NULL);
    write_file(t->cold, COLD);
    write_file(t->hot, HOT_FILE);
    g_autoptr(GError) err = NULL;
    t->config_dir = g_dir_make_tmp("memctl-reclaim-XXXXXX", &err);
    g_assert_no_error(err);
    g_autofree char *config = g_build_filename(t->config_dir, "memctld.json", NULL);
    g_autofree char *text =
            g_strdup_printf("{\"daemon\": {\"reclaim_interval_ms\": 1000%s%s}, \"groups\": {%s}%s%s}",
                            daemon_json ? ", " : "", daemon_json ? daemon_json : "", groups_json,
                            extra ? ", " : "", extra ? extra : "");
    g_assert_true(g_file_set_contents(config, text, -1, NULL));
    g_autofree char *a_config = g_strdup_printf("--config=%s", config);
    apitest_start(&t->api, prefix, (const char *[]){a_config, "--metrics-address=127.0.0.1:0", NULL});
    t->group = g_build_filename(t->api.root, "svc", NULL);
}

static void start(ReclaimTest *t, const char *prefix, const char *groups_json)
{
    start_with(t, prefix, groups_json, NULL, NULL);
}

static void start_service(ReclaimTest *t, const char *const *extra)
{
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    const char *base[] = {"--cgroup", t->group,     "--cold-file", t->cold,     "--hot-file",
                          t->hot,     "--hot-anon", "16M",         "--seconds", "600"};
    for (size_t i = 0; i < G_N_ELEMENTS(base); i++)
        g_ptr_array_add(args, (gpointer)base[i]);
    for (const char *const *e = extra; e && *e; e++)
        g_ptr_array_add(args, (gpointer)*e);
    g_ptr_array_add(args, NULL);
    workload_start(&t->svc, "tests/lib/service", (const char *const *)args->pdata);
    t->running = true;
}

static void stop(ReclaimTest *t)
{
    if (!t->mnt)
        return;
    if (t->running) {
        kill(t->svc.pid, SIGTERM);
        g_autofree char *line = hog_read_line(&t->svc, "ops ", 10000);
        g_test_message("service: %s", line ? line : "(no summary)");
        g_assert_cmpint(hog_wait(&t->svc, 10000), !=, -1);
    }
    apitest_stop(&t->api);
    zram_ext4_unmount(t->zram, t->mnt);
    cgtest_remove_tmpdir(t->config_dir);
    g_free(t->config_dir);
    g_free(t->cold);
    g_free(t->hot);
    g_free(t->group);
}

static uint64_t current(ReclaimTest *t)
{
    return cgtest_read_u64(t->group, "memory.current");
}

static GVariant *group_prop(ReclaimTest *t, const char *prop)
{
    return apitest_group_prop(&t->api, "svc", prop);
}

static uint64_t group_u64(ReclaimTest *t, const char *prop)
{
    g_autoptr(GVariant) v = group_prop(t, prop);
    return g_variant_get_uint64(v);
}

static double scrape(ReclaimTest *t, const char *prefix)
{
    Reply r = http_get(daemontest_metrics_port(&t->api.d), "/metrics", NULL);
    g_assert_cmpint(r.status, ==, 200);
    double v = http_sample_value(r.body, prefix);
    http_reply_clear(&r);
    return v;
}

/* The threads of memctld named `comm`. */
static guint threads_named(ReclaimTest *t, const char *comm)
{
    g_autofree char *dir = g_strdup_printf("/proc/%d/task", (int)t->api.d.pid);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_assert_nonnull(d);
    guint n = 0;
    const char *e;
    while ((e = g_dir_read_name(d))) {
        g_autofree char *path = g_strdup_printf("%s/%s/comm", dir, e);
        g_autofree char *text = NULL;
        if (g_file_get_contents(path, &text, NULL, NULL) && g_str_has_prefix(text, comm))
            n++;
    }
    return n;
}

/* Reclaim off (no key): three intervals later nothing was written, no worker runs, no estimate. */
static void test_off(void)
{
    ReclaimTest t;
    start(&t, "memctl-reclaim-off", "\"svc\": {\"priority\": 50}");
    if (!t.mnt)
        return;
    start_service(&t, NULL);
    uint64_t before = current(&t);
    g_usleep(4 * G_USEC_PER_SEC);
    g_assert_cmpfloat(scrape(&t, "memctl_reclaim_steps_total "), ==, 0);
    g_assert_cmpuint(threads_named(&t, "memctld-reclaim"), ==, 0);
    g_assert_cmpuint(group_u64(&t, "WorkingSet"), ==, 0);
    g_assert_cmpuint(current(&t), >=, before * 95 / 100); /* nothing took it */
    g_autofree char *err = apitest_cli_err(&t.api, 1, (const char *[]){"suggest", "svc", NULL});
    g_assert_nonnull(strstr(err, "proactive reclaim is off"));
    stop(&t);
}

/* reclaim=auto: the cold file goes, the hot set stays; the estimate within 15% of it. */
static void test_converges(void)
{
    ReclaimTest t;
    start(&t, "memctl-reclaim-auto", "\"svc\": {\"reclaim\": \"auto\"}");
    if (!t.mnt)
        return;
    start_service(&t, NULL);
    uint64_t full = current(&t);
    g_test_message("usage with the cold file: %" G_GUINT64_FORMAT " MiB", full / MiB);
    g_assert_cmpuint(full, >=, COLD);
    uint64_t now = full;
    for (int i = 0; i < 60 && now > full / 3; i++) {
        g_usleep(G_USEC_PER_SEC);
        now = current(&t);
    }
    g_usleep(5 * G_USEC_PER_SEC); /* a few more intervals: the estimate settles */
    now = current(&t);
    uint64_t ws = group_u64(&t, "WorkingSet"), hot = HOT_FILE + HOT_ANON;
    g_test_message("usage %" G_GUINT64_FORMAT " MiB, working set %" G_GUINT64_FORMAT
                   " MiB, hot set %" G_GUINT64_FORMAT " MiB",
                   now / MiB, ws / MiB, hot / MiB);
    g_assert_cmpuint(now, <=, full / 2);
    g_assert_cmpuint(ws, >=, hot * 85 / 100);
    g_assert_cmpuint(ws, <=, hot * 115 / 100);
    g_assert_cmpuint(group_u64(&t, "ReclaimedBytes"), >=, COLD / 2);
    g_autoptr(GVariant) mode = group_prop(&t, "Reclaim");
    g_assert_cmpstr(g_variant_get_string(mode, NULL), ==, "auto");
    /* the same figures in the metrics and the CLI */
    g_assert_cmpfloat(scrape(&t, "memctl_group_workingset_bytes{group=\"svc\"}"), >, 0);
    g_assert_cmpfloat(scrape(&t, "memctl_group_reclaimed_bytes_total{group=\"svc\"}"), >=,
                      (double)(COLD / 2));
    g_assert_cmpfloat(scrape(&t, "memctl_reclaim_steps_total "), >, 0);
    g_assert_cmpuint(threads_named(&t, "memctld-reclaim"), ==, 1);
    g_autofree char *out = apitest_cli(&t.api, 0, (const char *[]){"suggest", "svc", NULL});
    g_test_message("%s", out);
    g_assert_true(g_str_has_prefix(out, "svc: limit="));
    g_autofree char *top = apitest_cli(&t.api, 0, (const char *[]){"top", "--iterations=1", NULL});
    g_assert_nonnull(strstr(top, "WSET"));
    stop(&t);
}

/* Floors: memory.low (the kernel ignores the target group's own protection in memory.reclaim)
 * and reclaim_floor; the usage never goes under the higher, sampled every 100 ms. */
static void check_floor(const char *prefix, const char *group_json, uint64_t floor)
{
    ReclaimTest t;
    start(&t, prefix, group_json);
    if (!t.mnt)
        return;
    start_service(&t, NULL);
    uint64_t lowest = UINT64_MAX;
    for (int i = 0; i < 150; i++) {
        uint64_t c = current(&t);
        lowest = MIN(lowest, c);
        g_usleep(100 * 1000);
    }
    g_test_message("floor %" G_GUINT64_FORMAT " MiB, lowest usage %" G_GUINT64_FORMAT " MiB", floor / MiB,
                   lowest / MiB);
    g_assert_cmpuint(lowest, >=, floor - MiB);               /* a step is rounded to pages */
    g_assert_cmpuint(group_u64(&t, "ReclaimedBytes"), >, 0); /* it did reclaim, down to the floor */
    stop(&t);
}

static void test_floor_low(void)
{
    check_floor("memctl-reclaim-low", "\"svc\": {\"reclaim\": \"auto\", \"low\": \"100M\"}", 100 * MiB);
}

static void test_floor_key(void)
{
    check_floor("memctl-reclaim-floor", "\"svc\": {\"reclaim\": \"auto\", \"reclaim_floor\": \"120M\"}",
                120 * MiB);
}

/* A working set that grows by 48 MiB at 20 s is served at once: the usage holds it the next second
 * (no limit to raise, no kill). */
static void test_growth(void)
{
    ReclaimTest t;
    start(&t, "memctl-reclaim-grow", "\"svc\": {\"reclaim\": \"auto\"}");
    if (!t.mnt)
        return;
    start_service(&t, (const char *[]){"--grow-at", "20", "--grow-anon", "48M", NULL});
    g_usleep(19 * G_USEC_PER_SEC);
    uint64_t before = current(&t);
    g_usleep(3 * G_USEC_PER_SEC);
    uint64_t after = current(&t);
    g_test_message("usage before the growth %" G_GUINT64_FORMAT " MiB, after %" G_GUINT64_FORMAT " MiB",
                   before / MiB, after / MiB);
    g_assert_cmpuint(after, >=, MIN(before, HOT_FILE + HOT_ANON) + 40 * MiB);
    g_assert_true(hog_alive(&t.svc));
    g_assert_cmpuint(daemontest_count_records(&t.api.d, "\"type\":\"kill\""), ==, 0);
    stop(&t);
}

/* At the least target (10 us of stall a second), cutting into the hot set breaches it: the
 * working set becomes a measure. On 6.1 the stall says so; on 6.12 (multi-gen LRU on) these
 * refaults cost no stall at all, and the refaults themselves do (half a step come back). */
static void test_backs_off(void)
{
    ReclaimTest t;
    start(&t, "memctl-reclaim-tight", "\"svc\": {\"reclaim\": \"auto\", \"reclaim_pressure\": 10}");
    if (!t.mnt)
        return;
    start_service(&t, NULL);
    bool measured = false;
    for (int i = 0; i < 60 && !measured; i++) {
        g_usleep(G_USEC_PER_SEC);
        g_autoptr(GVariant) v = group_prop(&t, "WorkingSetMeasured");
        measured = g_variant_get_boolean(v);
    }
    g_assert_true(measured);
    g_test_message("reclaim's stall %" G_GUINT64_FORMAT " us", group_u64(&t, "ReclaimStallUsec"));
    uint64_t ws = group_u64(&t, "WorkingSet");
    g_test_message("working set %" G_GUINT64_FORMAT " MiB (measured)", ws / MiB);
    g_assert_cmpuint(ws, >=, (HOT_FILE + HOT_ANON) * 85 / 100);
    stop(&t);
}

/* What memctld logs as the host guard arms and disarms ("host: short of memory, guard armed (...)",
 * "host: calm, guard disarmed after ..."). */
#define ARMED ", guard armed ("
#define DISARMED ", guard disarmed "

/* A /proc/meminfo line's value in bytes (key with its colon). */
static uint64_t meminfo(const char *key)
{
    return cgtest_read_key("/proc", "meminfo", key) * 1024;
}

/* With the host short of memory (the guard armed), reclaim waits: no step while the guard stays
 * armed, and steps again once it disarms. Reclaim first runs (the host has room); then a ballast
 * (anonymous memory, no swap) takes MemAvailable under host.available_min (40 %), and a thrasher
 * (random reads of a 48 MiB file in a group limited to 24 MiB) waits for memory all the time: the
 * guard arms and stays armed. Both outside memctld's root, and a dry run: the guard's verdicts
 * kill nobody (its victims can only be memctld's groups, svc here). */
static void test_host_short(void)
{
    ReclaimTest t;
    start_with(&t, "memctl-reclaim-host", "\"svc\": {\"reclaim\": \"auto\"}", "\"dry_run\": true",
               "\"host\": {\"available_min\": \"40%\"}");
    if (!t.mnt)
        return;
    g_autofree char *big = g_build_filename(t.mnt, "thrash", NULL);
    write_file(big, 48 * MiB);
    start_service(&t, NULL);
    uint64_t reclaimed = 0;
    for (int i = 0; i < 30 && reclaimed < 8 * MiB; i++) {
        g_usleep(G_USEC_PER_SEC);
        reclaimed = group_u64(&t, "ReclaimedBytes");
    }
    g_assert_cmpuint(reclaimed, >=, 8 * MiB); /* reclaim runs while the host has room */
    guint armed = daemontest_count_log(&t.api.d, ARMED);
    /* the host short, and tasks waiting */
    uint64_t avail = meminfo("MemAvailable:"), amin = meminfo("MemTotal:") * 40 / 100;
    g_assert_cmpuint(avail, >, amin);
    g_autofree char *size = g_strdup_printf("%" G_GUINT64_FORMAT, (avail - amin) / MiB * MiB + 96 * MiB);
    g_autofree char *load = cgtest_root_new("memctl-reclaim-load");
    g_autofree char *ballast_dir = cgtest_mkdir(load, "ballast"), *thrash_dir = cgtest_mkdir(load, "thrash");
    Hog ballast;
    hog_start(&ballast,
              (const char *[]){"--cgroup", ballast_dir, "--step", "16M", "--total", size, "--hold", NULL});
    g_assert_true(hog_wait_line(&ballast, "grown", 60000));
    g_assert_cmpint(cgtest_write(thrash_dir, "memory.max", "24M"), ==, 0);
    Hog thrash;
    workload_start(&thrash, "tests/lib/service",
                   (const char *[]){"--cgroup", thrash_dir, "--hot-file", big, "--hot-anon", "1M",
                                    "--seconds", "600", NULL});
    g_assert_cmpuint(daemontest_wait_log(&t.api.d, ARMED, armed + 1, 20000), >=, armed + 1);
    g_usleep(1500 * 1000); /* a step written before the guard armed has ended */
    armed = daemontest_count_log(&t.api.d, ARMED);
    guint calm = daemontest_count_log(&t.api.d, DISARMED);
    g_assert_cmpuint(armed, ==, calm + 1); /* armed now */
    double steps = scrape(&t, "memctl_reclaim_steps_total ");
    reclaimed = group_u64(&t, "ReclaimedBytes");
    g_usleep(6 * G_USEC_PER_SEC); /* six intervals */
    /* held armed all along (MemAvailable under available_min, the thrasher waiting), and reclaim took
     * nothing */
    g_test_message("MemAvailable with the ballast: %" G_GUINT64_FORMAT
                   " MiB (available_min %" G_GUINT64_FORMAT " MiB)",
                   meminfo("MemAvailable:") / MiB, amin / MiB);
    g_assert_cmpuint(daemontest_count_log(&t.api.d, DISARMED), ==, calm);
    g_assert_cmpuint(daemontest_count_log(&t.api.d, ARMED), ==, armed);
    g_assert_cmpfloat(scrape(&t, "memctl_reclaim_steps_total "), ==, steps);
    g_assert_cmpuint(group_u64(&t, "ReclaimedBytes"), ==, reclaimed);
    /* the host has room again: the guard disarms and reclaim goes on */
    kill(thrash.pid, SIGKILL);
    g_assert_cmpint(hog_wait(&thrash, 10000), !=, -1);
    g_assert_cmpint(hog_kill(&ballast), !=, -1);
    g_assert_cmpuint(daemontest_wait_log(&t.api.d, DISARMED, calm + 1, 10000), >=, calm + 1);
    uint64_t after = reclaimed;
    for (int i = 0; i < 20 && after <= reclaimed; i++) {
        g_usleep(G_USEC_PER_SEC);
        after = group_u64(&t, "ReclaimedBytes");
    }
    g_test_message("reclaimed: %" G_GUINT64_FORMAT " MiB before the guard armed, %" G_GUINT64_FORMAT
                   " MiB after it disarmed",
                   reclaimed / MiB, after / MiB);
    g_assert_cmpuint(after, >, reclaimed);
    stop(&t);
    cgtest_remove_tree(load);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    cgtest_require_cgroup2();
    g_test_add_func("/reclaim/off", test_off);
    g_test_add_func("/reclaim/converges", test_converges);
    g_test_add_func("/reclaim/floor-low", test_floor_low);
    g_test_add_func("/reclaim/floor-key", test_floor_key);
    g_test_add_func("/reclaim/growth", test_growth);
    g_test_add_func("/reclaim/backs-off", test_backs_off);
    g_test_add_func("/reclaim/host-short", test_host_short);
    return g_test_run();
}
