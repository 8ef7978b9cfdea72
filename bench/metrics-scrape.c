/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-metrics-scrape: what a Prometheus scrape of memctld costs as the number of groups grows.
 *
 *   bench-metrics-scrape [--scrapes N] [--groups A,B,...]
 *
 * For each group count: memctld with that many groups declared in a policy file (each with a limit,
 * so every series is there), then N scrapes of /metrics one after the other over loopback, each
 * timed from connect to the last byte, against a floor measured in the same run: N GETs of "/"
 * (the same HTTP round trip through libmicrohttpd and the main loop, without rendering). memctld's
 * own account of its rendering time (memctl_scrape_render_seconds_total / memctl_scrapes_total)
 * separates rendering from transfer. And the kernel's share, also in the same run: one pread of
 * each of the five files a scrape reads per group (memory.current, memory.peak,
 * memory.swap.current, memory.events, memory.pressure), through fds opened once, by a plain loop:
 * what any exporter reading those files pays before it formats a byte.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "stats.h"
#include "tests/lib/cgtest.h"
#include "tests/lib/daemontest.h"
#include "tests/lib/httptest.h"

static double sample(const char *text, const char *name)
{
    g_autofree char *needle = g_strdup_printf("\n%s ", name);
    const char *p = strstr(text, needle);
    return p ? g_ascii_strtod(p + strlen(needle), NULL) : -1;
}

static const char *const group_files[] = {"memory.current", "memory.events", "memory.pressure", "memory.peak",
                                          "memory.swap.current"};
#define GROUP_FILES G_N_ELEMENTS(group_files)

/* The five files of each group, opened once (a file this kernel lacks: -1). */
static int *open_group_files(const char *root, guint groups)
{
    /* 5,000 fds for 1,000 groups: more than the VM's default limit */
    rlim_t need = (rlim_t)groups * GROUP_FILES + 256;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
        rl.rlim_cur = need;
        rl.rlim_max = MAX(rl.rlim_max, need);
        g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &rl), ==, 0);
    }
    int *fds = g_new(int, groups *GROUP_FILES);
    for (guint i = 0; i < groups; i++)
        for (size_t k = 0; k < GROUP_FILES; k++) {
            g_autofree char *path = g_strdup_printf("%s/g%05u/%s", root, i, group_files[k]);
            fds[i * GROUP_FILES + k] = open(path, O_RDONLY | O_CLOEXEC);
        }
    return fds;
}

/* One pread of every file: milliseconds. */
static double read_round(const int *fds, guint groups)
{
    char buf[1024];
    gint64 a = g_get_monotonic_time();
    for (guint i = 0; i < groups * GROUP_FILES; i++)
        if (fds[i] >= 0)
            g_assert_cmpint(pread(fds[i], buf, sizeof(buf), 0), >, 0);
    return (g_get_monotonic_time() - a) / 1000.0;
}

static void one_size(guint groups, gint scrapes)
{
    g_autofree char *dir = g_dir_make_tmp("memctl-bench-scrape-XXXXXX", NULL);
    g_autoptr(GString) json = g_string_new("{\"groups\": {");
    for (guint i = 0; i < groups; i++)
        g_string_append_printf(json, "%s\"g%05u\": {\"limit\": \"64M\"}", i ? ", " : "", i);
    g_string_append(json, "}}");
    g_autofree char *conf = g_build_filename(dir, "memctld.json", NULL);
    g_assert_true(g_file_set_contents(conf, json->str, -1, NULL));
    g_autofree char *a_conf = g_strdup_printf("--config=%s", conf);
    g_autofree char *a_max = g_strdup_printf("--max-groups=%u", groups + 16);
    g_autofree char *root = cgtest_root_new("memctl-bench-scrape");
    DaemonTest d;
    gint64 t0 = g_get_monotonic_time();
    daemontest_start(&d, root, (const char *[]){a_conf, a_max, "--metrics-address=127.0.0.1:0", NULL});
    double start_s = (g_get_monotonic_time() - t0) / 1e6;
    int port = daemontest_metrics_port(&d);
    g_autofree int *fds = open_group_files(root, groups);

    g_autoptr(GArray) floor_ms = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GArray) reads_ms = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GArray) scrape_ms = g_array_new(FALSE, FALSE, sizeof(double));
    size_t bytes = 0;
    guint series = 0;
    for (gint i = 0; i < scrapes; i++) {
        gint64 a = g_get_monotonic_time();
        Reply r = http_get(port, "/", NULL);
        double ms = (g_get_monotonic_time() - a) / 1000.0;
        g_assert_cmpint(r.status, ==, 200);
        g_array_append_val(floor_ms, ms);
        http_reply_clear(&r);

        ms = read_round(fds, groups);
        g_array_append_val(reads_ms, ms);

        a = g_get_monotonic_time();
        r = http_get(port, "/metrics", NULL);
        ms = (g_get_monotonic_time() - a) / 1000.0;
        g_assert_cmpint(r.status, ==, 200);
        g_array_append_val(scrape_ms, ms);
        bytes = strlen(r.body);
        series = 0;
        for (const char *p = r.body; *p; p = strchr(p, '\n') + 1)
            series += *p != '#';
        http_reply_clear(&r);
    }
    Reply r = http_get(port, "/metrics", NULL);
    double render_total = sample(r.body, "memctl_scrape_render_seconds_total");
    double n = sample(r.body, "memctl_scrapes_total");
    double rss = sample(r.body, "memctl_daemon_resident_memory_bytes");
    http_reply_clear(&r);
    for (guint i = 0; i < groups * GROUP_FILES; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    daemontest_stop(&d);
    cgtest_remove_tree(root);
    cgtest_remove_tmpdir(dir);

    printf("| %u | %.0f KiB | %u | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f | %.0f MiB |\n", groups,
           bytes / 1024.0, series, bench_pct(floor_ms, .5), bench_pct(floor_ms, .99), bench_pct(reads_ms, .5),
           bench_pct(scrape_ms, .5), bench_pct(scrape_ms, .99), n > 0 ? render_total / n * 1000 : -1, start_s,
           rss / 1048576);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    gint scrapes = 50;
    g_autofree char *sizes = NULL;
    GOptionEntry entries[] = {
            {"scrapes", 0, 0, G_OPTION_ARG_INT, &scrapes, "Scrapes per size (default 50)", "N"},
            {"groups", 0, 0, G_OPTION_ARG_STRING, &sizes, "Group counts (default 10,100,1000)", "A,B,..."},
            {NULL}};
    g_autoptr(GOptionContext) ctx = g_option_context_new("- the cost of a /metrics scrape");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || scrapes < 1) {
        g_printerr("bench-metrics-scrape: %s\n", err ? err->message : "--scrapes must be positive");
        return 2;
    }
    cgtest_require_cgroup2();
    g_autofree char *kernel = bench_kernel_release();
    printf("kernel %s; %d scrapes per size, one after the other, times in ms\n\n", kernel, scrapes);
    printf("| groups | exposition | samples | GET / p50 (floor) | p99 | the files' preads p50 (floor) | GET "
           "/metrics p50 | p99 | rendering (memctld's own, mean) | memctld start-up (s) | memctld RSS |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    g_auto(GStrv) list = g_strsplit(sizes ? sizes : "10,100,1000", ",", -1);
    for (char **s = list; *s; s++) {
        guint64 g = g_ascii_strtoull(*s, NULL, 10);
        if (g < 1 || g > 60000) {
            g_printerr("bench-metrics-scrape: --groups: '%s' is not between 1 and 60000\n", *s);
            return 2;
        }
        one_size((guint)g, scrapes);
    }
    return 0;
}
