/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-scale: what memctld costs as the groups grow, when it starts over existing cgroups (a
 * restart on a busy host: every group adopted).
 *
 *   bench-scale [--groups A,B,...] [--idle-s N] [--baseline PATH] [--breakdown]
 *
 * For each group count: a fresh managed root with that many cgroups made beforehand (memory.max
 * 64M, memory.high 60M: a limit each), then a floor (every group's files opened and closed once, the
 * kernel's share of adoption under this VM), then memctld started on it as it runs in production
 * (serving the API on a private bus like the system bus, and /metrics on loopback) and timed from
 * its spawn to READY=1 and its name on the bus (every group adopted and handed to the core; the
 * private bus is started before, out of the time). Then, idle for N seconds (default 20): its
 * resident memory (VmRSS, RssAnon, RssFile), locked memory (VmLck), threads, fds, the kernel's psimon
 * threads (one per cgroup with a PSI trigger on 6.1: memctld puts none on groups), its wake-ups
 * (context switches of all its threads) per minute and its CPU. Then used as its clients use it (a
 * /metrics scrape, GetStatus and ListGroups over D-Bus) and idle 2 s again: VmRSS after use, since
 * what memctld touches stays locked. --baseline runs the same sizes with
 * another memctld (an older build) in the same invocation, interleaved. --breakdown prints, after
 * the table, where each run's resident memory was after use: /proc/PID/smaps summed by mapping (a
 * library, [stack], [heap], or anonymous mappings by size), the largest first.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "include/memctl/memctl.h"
#include "stats.h"
#include "tests/lib/bustest.h"
#include "tests/lib/cgtest.h"
#include "tests/lib/daemontest.h"
#include "tests/lib/httptest.h"

typedef struct {
    double floor_s; /* the kernel's own cost: every group's files opened and closed once */
    double start_s;
    uint64_t rss_kb, anon_kb, file_kb, lck_kb;
    uint64_t used_rss_kb; /* after a scrape and two D-Bus calls */
    /* memctld's own cgroup after use: all it is charged, kernel memory included (the seq_file
     * buffer each cgroup file keeps once read, inotify marks, open files), and of it the slab */
    uint64_t cg_current, cg_slab;
    guint threads, fds, psimon;
    double wakeups_min, cpu_pct;
} Figures;

/* A "Key:\t value" field of a /proc status file (0 when absent). */
static uint64_t status_field(const char *path, const char *key)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    g_autofree char *k = g_strdup_printf("\n%s:", key);
    const char *p = strstr(text, k);
    return p ? g_ascii_strtoull(p + strlen(k), NULL, 10) : 0;
}

static uint64_t status_kb(int pid, const char *key)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status", pid);
    return status_field(path, key);
}

/* Context switches of all of pid's threads: how often they woke. */
static uint64_t wakeups(int pid)
{
    g_autofree char *dir = g_strdup_printf("/proc/%d/task", pid);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_assert_nonnull(d);
    uint64_t n = 0;
    for (const char *t; (t = g_dir_read_name(d));) {
        g_autofree char *st = g_build_filename(dir, t, "status", NULL);
        n += status_field(st, "voluntary_ctxt_switches") + status_field(st, "nonvoluntary_ctxt_switches");
    }
    return n;
}

/* utime + stime of pid, in clock ticks. */
static uint64_t cpu_ticks(int pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", pid);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    const char *p = strrchr(text, ')');
    g_assert_nonnull(p);
    unsigned long long ut = 0, st = 0;
    /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    g_assert_cmpint(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st), ==, 2);
    return ut + st;
}

static guint count_dir(const char *path)
{
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    guint n = 0;
    while (d && g_dir_read_name(d))
        n++;
    return n;
}

/* What memctld cannot do faster: open once (and close) the files it keeps open or reads for every
 * group, the core's eight and the six limits the GLib side reads back: 14 files (until session 15
 * the core kept memory.swap.max open as well). Measured on the same groups, in the same VM, just
 * before memctld starts. */
static double open_floor(const char *root, guint groups)
{
    static const char *const files[] = {"memory.events.local", "memory.current",  "memory.stat",
                                        "memory.pressure",     "cgroup.procs",    "cgroup.kill",
                                        "memory.swap.current", "memory.swap.max", "cgroup.events",
                                        "memory.min",          "memory.low",      "memory.high",
                                        "memory.max",          "memory.oom.group"};
    gint64 t0 = g_get_monotonic_time();
    for (guint i = 0; i < groups; i++) {
        g_autofree char *dir = g_strdup_printf("%s/g%05u", root, i);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_assert_cmpint(dfd, >=, 0);
        for (size_t k = 0; k < G_N_ELEMENTS(files); k++) {
            int fd = openat(dfd, files[k],
                            (strcmp(files[k], "cgroup.kill") == 0 ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
            if (fd >= 0)
                close(fd);
        }
        close(dfd);
    }
    return (g_get_monotonic_time() - t0) / 1e6;
}

typedef struct {
    char *what;
    uint64_t rss_kb, locked_kb;
} Mapping;

static gint by_rss_desc(gconstpointer a, gconstpointer b)
{
    const Mapping *x = *(Mapping *const *)a, *y = *(Mapping *const *)b;
    return x->rss_kb < y->rss_kb ? 1 : x->rss_kb > y->rss_kb ? -1 : 0;
}

static void mapping_free(gpointer p)
{
    Mapping *m = p;
    g_free(m->what);
    g_free(m);
}

static GString *breakdowns; /* printed after the table */

/* Resident memory by mapping: a file's mappings summed under its name, an anonymous one under its
 * size ("anon 516 KiB"), so that the core's preallocations can be told apart. */
static void add_breakdown(int pid, const char *which, guint groups)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/smaps", pid);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_autoptr(GHashTable) by = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, mapping_free);
    Mapping *cur = NULL;
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        unsigned long lo, hi;
        int off = 0;
        if (sscanf(*l, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi, &off) == 2 && off > 0) {
            const char *name = g_strstrip(*l + off);
            g_autofree char *key =
                    *name ? g_path_get_basename(name) : g_strdup_printf("anon %lu KiB", (hi - lo) / 1024);
            cur = g_hash_table_lookup(by, key);
            if (!cur) {
                cur = g_new0(Mapping, 1);
                cur->what = g_steal_pointer(&key);
                g_hash_table_insert(by, cur->what, cur);
            }
        } else if (cur && g_str_has_prefix(*l, "Rss:")) {
            cur->rss_kb += g_ascii_strtoull(*l + 4, NULL, 10);
        } else if (cur && g_str_has_prefix(*l, "Locked:")) {
            cur->locked_kb += g_ascii_strtoull(*l + 7, NULL, 10);
        }
    }
    g_autoptr(GPtrArray) all = g_ptr_array_new();
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, by);
    while (g_hash_table_iter_next(&it, NULL, &v))
        g_ptr_array_add(all, v);
    g_ptr_array_sort(all, by_rss_desc);
    g_string_append_printf(breakdowns, "\n%s, %u groups: resident memory by mapping\n\n", which, groups);
    g_string_append(breakdowns, "| mapping | Rss (KiB) | Locked (KiB) |\n|---|---|---|\n");
    for (guint i = 0; i < all->len; i++) {
        const Mapping *m = all->pdata[i];
        if (m->rss_kb > 0)
            g_string_append_printf(breakdowns, "| %s | %" G_GUINT64_FORMAT " | %" G_GUINT64_FORMAT " |\n",
                                   m->what, m->rss_kb, m->locked_kb);
    }
}

static Figures one_size(guint groups, gint idle_s, const char *binary)
{
    Figures f = {0};
    g_autofree char *root = cgtest_root_new("memctl-bench-scale");
    for (guint i = 0; i < groups; i++) {
        g_autofree char *name = g_strdup_printf("g%05u", i);
        g_autofree char *dir = cgtest_mkdir(root, name);
        g_assert_cmpint(cgtest_write(dir, "memory.max", "67108864"), ==, 0);
        g_assert_cmpint(cgtest_write(dir, "memory.high", "62914560"), ==, 0);
    }
    f.floor_s = open_floor(root, groups);
    guint psimon_before = cgtest_psimon_threads();
    g_autofree char *a_max = g_strdup_printf("--max-groups=%u", groups + 16);
    g_setenv("MEMCTL_MEMCTLD", binary ? binary : "", TRUE);
    g_setenv("MEMCTL_TEST_READY_SEC", "600", TRUE);
    ApiTest t;
    apitest_bus_up(&t, root); /* the private bus is the test's, not memctld's start-up */
    gint64 t0 = g_get_monotonic_time();
    apitest_daemon_up(&t, (const char *[]){a_max, "--metrics-address=127.0.0.1:0", NULL});
    f.start_s = (g_get_monotonic_time() - t0) / 1e6;
    g_unsetenv("MEMCTL_MEMCTLD");
    int pid = (int)t.d.pid;
    g_usleep(2 * G_USEC_PER_SEC); /* past start-up's own work */
    uint64_t w0 = wakeups(pid), c0 = cpu_ticks(pid);
    gint64 i0 = g_get_monotonic_time();
    g_usleep((gulong)idle_s * G_USEC_PER_SEC);
    double secs = (g_get_monotonic_time() - i0) / 1e6;
    f.wakeups_min = (double)(wakeups(pid) - w0) * 60.0 / secs;
    f.cpu_pct = (double)(cpu_ticks(pid) - c0) / (double)sysconf(_SC_CLK_TCK) / secs * 100.0;
    f.rss_kb = status_kb(pid, "VmRSS");
    f.anon_kb = status_kb(pid, "RssAnon");
    f.file_kb = status_kb(pid, "RssFile");
    f.lck_kb = status_kb(pid, "VmLck");
    f.threads = (guint)status_kb(pid, "Threads");
    g_autofree char *fddir = g_strdup_printf("/proc/%d/fd", pid);
    f.fds = count_dir(fddir);
    guint psimon_after = cgtest_psimon_threads();
    f.psimon = psimon_after > psimon_before ? psimon_after - psimon_before : 0;
    /* used: what a scrape and the API touch stays resident (locked as touched) */
    Reply r = http_get(daemontest_metrics_port(&t.d), "/metrics", NULL);
    g_assert_cmpint(r.status, ==, 200);
    http_reply_clear(&r);
    apitest_call_ok(&t, "GetStatus", NULL);
    apitest_call_ok(&t, "ListGroups", NULL);
    g_usleep(2 * G_USEC_PER_SEC);
    f.used_rss_kb = status_kb(pid, "VmRSS");
    g_autofree char *leaf = g_build_filename(root, MEMCTL_SELF_LEAF, NULL);
    g_autofree char *cur = cgtest_read(leaf, "memory.current");
    g_autofree char *stat = cgtest_read(leaf, "memory.stat");
    const char *slab = stat ? strstr(stat, "\nslab ") : NULL;
    f.cg_current = cur ? g_ascii_strtoull(cur, NULL, 10) : 0;
    f.cg_slab = slab ? g_ascii_strtoull(slab + 6, NULL, 10) : 0;
    if (breakdowns)
        add_breakdown(pid, binary ? "baseline" : "this build", groups);
    apitest_stop(&t); /* removes the root */
    return f;
}

static void print_row(const char *which, guint groups, const Figures *f)
{
    printf("| %s | %u | %.2f | %.2f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %u | %u | %u | %.0f | "
           "%.2f "
           "|\n",
           which, groups, f->floor_s, f->start_s, f->rss_kb / 1024.0, f->anon_kb / 1024.0,
           f->file_kb / 1024.0, f->lck_kb / 1024.0, f->used_rss_kb / 1024.0, f->cg_current / 1048576.0,
           f->cg_slab / 1048576.0, f->threads, f->fds, f->psimon, f->wakeups_min, f->cpu_pct);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    g_autofree char *sizes = NULL, *baseline = NULL;
    gint idle_s = 20;
    gboolean breakdown = FALSE;
    GOptionEntry entries[] = {
            {"groups", 0, 0, G_OPTION_ARG_STRING, &sizes, "Group counts (default 10,1000)", "A,B,..."},
            {"idle-s", 0, 0, G_OPTION_ARG_INT, &idle_s, "Idle seconds measured per size (default 20)", "N"},
            {"baseline", 0, 0, G_OPTION_ARG_FILENAME, &baseline, "Another memctld to measure the same way",
             "PATH"},
            {"breakdown", 0, 0, G_OPTION_ARG_NONE, &breakdown, "Print memctld's resident memory by mapping",
             NULL},
            {NULL}};
    g_autoptr(GOptionContext) ctx = g_option_context_new("- memctld's cost as the groups grow");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || idle_s < 1) {
        g_printerr("bench-scale: %s\n", err ? err->message : "--idle-s must be positive");
        return 2;
    }
    cgtest_require_cgroup2();
    if (breakdown)
        breakdowns = g_string_new(NULL);
    g_autofree char *kernel = bench_kernel_release();
    printf("kernel %s; idle figures over %d s, after start-up\n\n", kernel, idle_s);
    printf("| memctld | groups | floor: files opened once (s) | start-up to READY (s) | VmRSS (MiB) | "
           "RssAnon | RssFile | VmLck | VmRSS after use | its cgroup's memory.current after use | of it slab "
           "| "
           "threads | fds | psimon kthreads | wake-ups/min | CPU %% |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    g_auto(GStrv) list = g_strsplit(sizes ? sizes : "10,1000", ",", -1);
    for (char **s = list; *s; s++) {
        guint n = (guint)g_ascii_strtoull(*s, NULL, 10);
        if (n == 0 || n > 60000) {
            g_printerr("bench-scale: bad group count %s\n", *s);
            return 2;
        }
        Figures f = one_size(n, idle_s, NULL);
        print_row("this build", n, &f);
        if (baseline) {
            f = one_size(n, idle_s, baseline);
            print_row("baseline", n, &f);
        }
    }
    if (breakdowns)
        fputs(g_string_free(breakdowns, FALSE), stdout);
    return 0;
}
