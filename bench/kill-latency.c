/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-kill-latency: how fast a runaway process in a memory-limited group is stopped, and what the
 * other process in that group suffers meanwhile, with memctld and with the kernel alone, in one run.
 *
 *   bench-kill-latency [--runs N] [--json FILE] [--baseline PATH]
 *
 * Per run: a fresh group with a 128 MiB limit; a bystander holding 16 MiB that charges and frees
 * 64 KiB every millisecond and reports its worst gap between two probes (its stall); a hog that grows
 * 1 MiB at a time and stamps the moment it has grown to the group's high threshold minus the
 * bystander. Time to death is measured with a pidfd from that mark. Modes:
 *   memctld          memctld --group t:limit=128M (memory.max 128M, memory.high 121.6M)
 *   memctld-reclaim  the same with reclaim=auto for the group, sampled every 500 ms: proactive
 *                    reclaim must leave the kill path as fast as without it
 *   memctld-floor-64K  memctld with defaults.progress_floor 64K: a kill on knowledge once the group
 *                    is 64 KiB over high instead of 1 MiB (docs/POLICY.md says why 1 MiB stays)
 *   kernel-max       memory.max 128M only: the kernel's memcg OOM killer
 *   kernel-high-max  the same memory.max and memory.high as memctld writes, no memctld
 *   no-limit         no limit and no memctld: the benchmark kills the hog itself at the mark. The
 *                    bystander's worst stall here is the floor, what the same growth costs it
 *                    without any memory pressure (under TCG, tens of milliseconds)
 *   baseline         with --baseline PATH: the memctld mode with that memctld (an older build), run
 *                    for run alternated with this build's, each on a root of its own
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/cgtest.h"
#include "tests/lib/daemontest.h"
#include "stats.h"

#define MiB ((uint64_t)1024 * 1024)
#define LIMIT (128 * MiB)
#define HIGH (LIMIT - LIMIT / 20)
#define BYSTANDER (16 * MiB)

typedef struct {
    bool before_mark; /* the hog died before its mark (the group can be past high by then: the
                       * bystander's probes, page tables, a huge page): not timed, counted */
    double mark_to_dead_ms;
    double event_to_signal_ms; /* memctld's own record */
    double look_ms;            /* its trigger.window_usec: on knowledge, crossing -> the look that decided */
    double over_kib;           /* its trigger.current - trigger.high: the overage at that look */
    double signal_to_freed_ms;
    bool knowledge; /* memctld killed on knowledge (no-reclaim), not on the windows' verdict */
    double bystander_worst_ms;
    bool bystander_survived;
    bool kernel_killed;
    bool alloc_failure;
} Run;

static uint64_t now_usec(void)
{
    return (uint64_t)g_get_monotonic_time();
}

/* kill_at_mark: the benchmark SIGKILLs the hog at the mark (no limit: nothing else would). */
static Run one_run(const char *grp, DaemonTest *d, bool kill_at_mark)
{
    Run r = {0};
    uint64_t oom_before = cgtest_read_key(grp, "memory.events.local", "oom_kill");
    Hog by, hog;
    const char *bargs[] = {"--cgroup", grp, "--total", "16M", "--hold", "--probe-ms", "1", NULL};
    hog_start(&by, bargs);
    g_usleep(100 * 1000);
    g_autofree char *mark = g_strdup_printf("%" G_GUINT64_FORMAT, (HIGH - BYSTANDER) / MiB * MiB);
    const char *hargs[] = {"--cgroup", grp, "--step", "1M", "--mark", mark, NULL};
    hog_start(&hog, hargs);
    int pid = (int)hog.pid;
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    g_assert_cmpint(pidfd, >=, 0);
    g_autofree char *line = hog_read_line(&hog, "mark ", 120000);
    uint64_t t_mark = 0;
    if (!line || sscanf(line, "mark %" G_GUINT64_FORMAT, &t_mark) != 1) {
        int status = hog_wait(&hog, 10000);
        if (status == -1 || !WIFSIGNALED(status))
            g_error("hog printed no mark, and was not killed");
        close(pidfd);
        (void)hog_kill(&by);
        r.before_mark = true;
        return r;
    }
    if (kill_at_mark)
        kill(pid, SIGKILL);
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    g_assert_cmpint(poll(&p, 1, 300000), ==, 1);
    uint64_t t_dead = now_usec();
    close(pidfd);
    int status = hog_wait(&hog, 10000);
    g_autofree char *err = hog_stderr(&hog);
    r.alloc_failure = strstr(err, "memhog:") != NULL;
    r.mark_to_dead_ms = (double)(t_dead - t_mark) / 1000.0;
    (void)status;

    r.bystander_survived = hog_alive(&by);
    if (r.bystander_survived) {
        kill(by.pid, SIGTERM);
        g_autofree char *gap = hog_read_line(&by, "worst_gap_usec ", 10000);
        if (gap)
            r.bystander_worst_ms = g_ascii_strtod(gap + strlen("worst_gap_usec "), NULL) / 1000.0;
        hog_wait(&by, 10000);
    }
    r.kernel_killed = cgtest_read_key(grp, "memory.events.local", "oom_kill") > oom_before;

    if (d) {
        g_autofree char *needle = g_strdup_printf("\"pid\":%d,", pid);
        g_autofree char *rec = daemontest_wait_record(d, 10000, needle, "\"type\":\"kill\"");
        const char *a = rec ? strstr(rec, "\"event_to_signal_usec\":") : NULL;
        const char *b = rec ? strstr(rec, "\"signal_to_freed_usec\":") : NULL;
        if (a)
            r.event_to_signal_ms = g_ascii_strtod(a + 23, NULL) / 1000.0;
        if (b)
            r.signal_to_freed_ms = g_ascii_strtod(b + 23, NULL) / 1000.0;
        r.knowledge = rec && strstr(rec, "\"reason\":\"no-reclaim\"");
        const char *w = rec ? strstr(rec, "\"window_usec\":") : NULL;
        const char *c = rec ? strstr(rec, "\"current\":") : NULL;
        const char *h = rec ? strstr(rec, "\"high\":") : NULL;
        if (w)
            r.look_ms = g_ascii_strtod(w + 14, NULL) / 1000.0;
        if (c && h) {
            double over = g_ascii_strtod(c + 10, NULL) - g_ascii_strtod(h + 7, NULL);
            r.over_kib = over > 0 ? over / 1024 : 0;
        }
    }
    return r;
}

typedef struct {
    const char *name;
    GArray *dead, *signal, *freed, *stall;
    GArray *signal_knowledge, *signal_verdict; /* crossing high -> SIGKILL, by the path that decided */
    GArray *look, *decide, *over;              /* on knowledge: crossing -> look, look -> SIGKILL, KiB */
    guint runs, survived, kernel_kills, alloc_failures, before_mark;
} Mode;

static void mode_add(Mode *m, const Run *r)
{
    m->runs++;
    if (r->before_mark) {
        m->before_mark++;
        return;
    }
    g_array_append_val(m->dead, r->mark_to_dead_ms);
    if (r->event_to_signal_ms > 0) {
        g_array_append_val(m->signal, r->event_to_signal_ms);
        double f = r->event_to_signal_ms + r->signal_to_freed_ms;
        g_array_append_val(m->freed, f);
        g_array_append_val(r->knowledge ? m->signal_knowledge : m->signal_verdict, r->event_to_signal_ms);
        if (r->knowledge) {
            double decide = r->event_to_signal_ms > r->look_ms ? r->event_to_signal_ms - r->look_ms : 0;
            g_array_append_val(m->look, r->look_ms);
            g_array_append_val(m->decide, decide);
            g_array_append_val(m->over, r->over_kib);
        }
    }
    if (r->bystander_survived) {
        m->survived++;
        g_array_append_val(m->stall, r->bystander_worst_ms);
    }
    m->kernel_kills += r->kernel_killed;
    m->alloc_failures += r->alloc_failure;
}

static void mode_init(Mode *m, const char *name)
{
    memset(m, 0, sizeof(*m));
    m->name = name;
    m->dead = g_array_new(FALSE, FALSE, sizeof(double));
    m->signal = g_array_new(FALSE, FALSE, sizeof(double));
    m->freed = g_array_new(FALSE, FALSE, sizeof(double));
    m->stall = g_array_new(FALSE, FALSE, sizeof(double));
    m->signal_knowledge = g_array_new(FALSE, FALSE, sizeof(double));
    m->signal_verdict = g_array_new(FALSE, FALSE, sizeof(double));
    m->look = g_array_new(FALSE, FALSE, sizeof(double));
    m->decide = g_array_new(FALSE, FALSE, sizeof(double));
    m->over = g_array_new(FALSE, FALSE, sizeof(double));
}

int main(int argc, char **argv)
{
    gint runs = 30;
    g_autofree char *json = NULL, *baseline = NULL;
    GOptionEntry entries[] = {{"runs", 0, 0, G_OPTION_ARG_INT, &runs, "Runs per mode (default 30)", "N"},
                              {"json", 0, 0, G_OPTION_ARG_FILENAME, &json, "Write results as JSON", "FILE"},
                              {"baseline", 0, 0, G_OPTION_ARG_FILENAME, &baseline,
                               "Another memctld, its runs alternated with this build's", "PATH"},
                              {NULL}};
    g_autoptr(GOptionContext) ctx = g_option_context_new("- kill latency: memctld against the kernel");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || runs < 1) {
        g_printerr("bench-kill-latency: %s\n", err ? err->message : "--runs must be positive");
        return 2;
    }
    cgtest_require_cgroup2();

    Mode modes[7];
    mode_init(&modes[0], "memctld");
    mode_init(&modes[1], "kernel-max");
    mode_init(&modes[2], "kernel-high-max");
    mode_init(&modes[3], "no-limit");
    mode_init(&modes[4], "memctld-reclaim");
    mode_init(&modes[5], "memctld-floor-64K");
    mode_init(&modes[6], "baseline");
    int n_modes = baseline ? 7 : 6;
    static const int memctld_mode[] = {0, 4, 5}; /* by k below */

    /* memctld, memctld with proactive reclaim on for the group, memctld with a 64 KiB floor */
    g_autofree char *cdir = g_dir_make_tmp("memctl-bench-XXXXXX", NULL);
    g_autofree char *config = g_build_filename(cdir, "memctld.json", NULL);
    g_assert_true(g_file_set_contents(config, "{\"daemon\": {\"reclaim_interval_ms\": 500}}", -1, NULL));
    g_autofree char *floor_config = g_build_filename(cdir, "floor.json", NULL);
    g_assert_true(
            g_file_set_contents(floor_config, "{\"defaults\": {\"progress_floor\": \"64K\"}}", -1, NULL));
    g_autofree char *a_config = g_strdup_printf("--config=%s", config);
    g_autofree char *a_floor = g_strdup_printf("--config=%s", floor_config);
    for (int k = 0; k < 3; k++) {
        g_autofree char *root = g_strdup_printf("%s/memctl-bench.%d", cgtest_mount(), (int)getpid());
        DaemonTest d;
        const char *args[] = {k == 1 ? "--group=t:limit=128M,reclaim=auto" : "--group=t:limit=128M",
                              k == 2 ? a_floor : a_config, NULL};
        daemontest_start(&d, root, args);
        g_autofree char *grp = g_build_filename(root, "t", NULL);
        /* the baseline: the same group under the other memctld, on a root of its own */
        DaemonTest db;
        g_autofree char *broot = g_strdup_printf("%s.baseline", root);
        g_autofree char *bgrp = g_build_filename(broot, "t", NULL);
        bool with_base = baseline && k == 0;
        if (with_base) {
            g_setenv("MEMCTL_MEMCTLD", baseline, TRUE);
            daemontest_start(&db, broot, args);
            g_unsetenv("MEMCTL_MEMCTLD");
        }
        for (gint i = 0; i < runs; i++) {
            Run r = one_run(grp, &d, false);
            mode_add(&modes[memctld_mode[k]], &r);
            if (with_base) {
                r = one_run(bgrp, &db, false);
                mode_add(&modes[6], &r);
            }
        }
        daemontest_stop(&d);
        cgtest_remove_tree(root);
        if (with_base) {
            daemontest_stop(&db);
            cgtest_remove_tree(broot);
        }
    }
    cgtest_remove_tmpdir(cdir);

    /* the kernel alone, interleaved so that both see the same machine state over time */
    g_autofree char *kroot = cgtest_root_new("memctl-bench-kernel");
    g_autofree char *kmax = cgtest_mkdir(kroot, "max");
    g_autofree char *khigh = cgtest_mkdir(kroot, "highmax");
    g_autofree char *kfree = cgtest_mkdir(kroot, "nolimit");
    char buf[32];
    g_snprintf(buf, sizeof(buf), "%" G_GUINT64_FORMAT, LIMIT);
    g_assert_cmpint(cgtest_write(kmax, "memory.max", buf), ==, 0);
    g_assert_cmpint(cgtest_write(khigh, "memory.max", buf), ==, 0);
    g_snprintf(buf, sizeof(buf), "%" G_GUINT64_FORMAT, HIGH);
    g_assert_cmpint(cgtest_write(khigh, "memory.high", buf), ==, 0);
    for (gint i = 0; i < runs; i++) {
        Run r = one_run(kmax, NULL, false);
        mode_add(&modes[1], &r);
        r = one_run(khigh, NULL, false);
        mode_add(&modes[2], &r);
        r = one_run(kfree, NULL, true);
        mode_add(&modes[3], &r);
    }
    cgtest_remove_tree(kroot);

    g_autofree char *kernel = bench_kernel_release();
    printf("kernel %s\n", kernel);
    printf("%d runs per mode; times in ms from the hog reaching high-16M (its own mark)\n\n", runs);
    printf("| mode | hog dead p50 | p99 | max | SIGKILL p50 | p99 | memory freed p50 | p99 | bystander worst "
           "stall p50 | p99 | max | bystander survived | kernel OOM kills | allocation failures | killed "
           "before the mark |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    g_autoptr(GString) js = g_string_new("{\n");
    g_string_append_printf(js, "  \"kernel\": \"%s\",\n  \"runs\": %d,\n  \"modes\": {\n", kernel, runs);
    for (int m = 0; m < n_modes; m++) {
        Mode *x = &modes[m];
        printf("| %s | %.1f | %.1f | %.1f | ", x->name, bench_pct(x->dead, .5), bench_pct(x->dead, .99),
               bench_pct(x->dead, 1));
        if (x->signal->len)
            printf("%.1f | %.1f | %.1f | %.1f | ", bench_pct(x->signal, .5), bench_pct(x->signal, .99),
                   bench_pct(x->freed, .5), bench_pct(x->freed, .99));
        else
            printf("- | - | - | - | ");
        printf("%.1f | %.1f | %.1f | %u/%u | %u | %u | %u |\n", bench_pct(x->stall, .5),
               bench_pct(x->stall, .99), bench_pct(x->stall, 1), x->survived, x->runs - x->before_mark,
               x->kernel_kills, x->alloc_failures, x->before_mark);
        g_string_append_printf(
                js,
                "    \"%s\": {\"dead_p50_ms\": %.2f, \"dead_p99_ms\": %.2f, \"signal_p50_ms\": %.2f, "
                "\"signal_p99_ms\": %.2f, \"freed_p50_ms\": %.2f, \"freed_p99_ms\": %.2f, "
                "\"stall_p50_ms\": %.2f, \"stall_p99_ms\": %.2f, \"stall_max_ms\": %.2f, "
                "\"bystander_survived\": %u, \"kernel_oom_kills\": %u, \"alloc_failures\": %u, "
                "\"killed_before_mark\": %u}%s\n",
                x->name, bench_pct(x->dead, .5), bench_pct(x->dead, .99), bench_pct(x->signal, .5),
                bench_pct(x->signal, .99), bench_pct(x->freed, .5), bench_pct(x->freed, .99),
                bench_pct(x->stall, .5), bench_pct(x->stall, .99), bench_pct(x->stall, 1), x->survived,
                x->kernel_kills, x->alloc_failures, x->before_mark, m + 1 < n_modes ? "," : "");
    }
    g_string_append(js, "  },\n");
    /* memctld's kills by the path that decided: knowledge (no-reclaim) or the windows' verdict; on
     * knowledge, split at the look that decided: before it the group grows to the rule's overage,
     * after it is memctld's own kill path */
    printf("\nmemctld, crossing high -> SIGKILL by path:\n\n| memctld | path | runs | p50 | p99 | max "
           "|\n|---|---|---|---|---|---|\n");
    const char *names[] = {"knowledge (no-reclaim)", "windows (no-progress, stall, max)"};
    static const int listed[] = {0, 4, 5, 6};
    for (int i = 0; i < (int)G_N_ELEMENTS(listed) && listed[i] < n_modes; i++) {
        const Mode *x = &modes[listed[i]];
        GArray *by_path[] = {x->signal_knowledge, x->signal_verdict};
        for (int k = 0; k < 2; k++) {
            if (by_path[k]->len)
                printf("| %s | %s | %u | %.2f | %.2f | %.2f |\n", x->name, names[k], by_path[k]->len,
                       bench_pct(by_path[k], .5), bench_pct(by_path[k], .99), bench_pct(by_path[k], 1));
            else
                printf("| %s | %s | 0 | - | - | - |\n", x->name, names[k]);
        }
    }
    printf("\nmemctld's kills on knowledge, split at the look that decided:\n\n| memctld | runs | crossing "
           "-> "
           "that look p50 | p99 | that look -> SIGKILL p50 | p99 | max | overage at that look (KiB) p50 | "
           "p99 |\n|---|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < (int)G_N_ELEMENTS(listed) && listed[i] < n_modes; i++) {
        const Mode *x = &modes[listed[i]];
        if (!x->look->len)
            continue;
        printf("| %s | %u | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f | %.0f |\n", x->name, x->look->len,
               bench_pct(x->look, .5), bench_pct(x->look, .99), bench_pct(x->decide, .5),
               bench_pct(x->decide, .99), bench_pct(x->decide, 1), bench_pct(x->over, .5),
               bench_pct(x->over, .99));
    }
    GArray *paths[] = {modes[0].signal_knowledge, modes[0].signal_verdict};
    g_string_append_printf(js,
                           "  \"memctld_paths\": {\"knowledge_runs\": %u, \"knowledge_p50_ms\": %.2f, "
                           "\"knowledge_p99_ms\": %.2f, \"windows_runs\": %u, \"windows_p50_ms\": %.2f, "
                           "\"windows_p99_ms\": %.2f, \"look_to_signal_p50_ms\": %.2f, "
                           "\"look_to_signal_p99_ms\": %.2f}\n}\n",
                           paths[0]->len, bench_pct(paths[0], .5), bench_pct(paths[0], .99), paths[1]->len,
                           bench_pct(paths[1], .5), bench_pct(paths[1], .99), bench_pct(modes[0].decide, .5),
                           bench_pct(modes[0].decide, .99));
    if (json && !g_file_set_contents(json, js->str, -1, &err)) {
        g_printerr("bench-kill-latency: %s\n", err->message);
        return 1;
    }
    return 0;
}
