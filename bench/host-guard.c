/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-host-guard: how fast a hog that exhausts the whole host is stopped, and what a bystander in
 * another group suffers meanwhile, with memctld's host guard and with the kernel's global OOM killer
 * alone, runs interleaved in one invocation.
 *
 *   bench-host-guard [--runs N] [--workload exhaust|thrash|fit] [--host-policy JSON] [--json FILE]
 *
 * Per run: a fresh managed root with groups web (priority 90) and batch (priority 10), neither with a
 * limit; a bystander in web holding 16 MiB that maps, touches and unmaps 64 KiB every millisecond and
 * reports its worst gap between two probes; a hog in batch. The workloads:
 *   exhaust  no swap; the hog grows 4 MiB at a time until something kills it
 *   thrash   1 GiB of zram swap; the hog grows 8 MiB at a time to 3 GiB of pseudo-random pages (zram
 *            cannot compress them) and reads every page back after each step: it never fits
 *   fit      1 GiB of zram swap; the hog grows 1 MiB every 10 ms to RAM + 256 MiB of pages that
 *            compress well, then holds them for 3 s: it fits, and nobody should kill it
 * The reference instant is the first host PSI event "some 5ms in 500ms" seen by the bench itself (its
 * own trigger on /proc/pressure/memory, in every mode). Time to death is measured with a pidfd.
 * Modes:
 *   memctld  memctld with its default host guard (the policy of data/examples: no limits);
 *            --host-policy gives its "host" object instead (an experiment: '{"window_ms": 50}')
 *   kernel   no memctld: the kernel's global OOM killer
 *   earlyoom earlyoom with its defaults (`earlyoom -r 0`: SIGTERM at 10% MemAvailable and 10% free
 *            swap, SIGKILL at 5%), the binary in $MEMCTL_EARLYOOM or on PATH (scripts/setup puts
 *            Debian's package's in build/peers/); the mode is left out, and says so, without it
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/cgtest.h"
#include "tests/lib/daemontest.h"
#include "tests/lib/zram.h"
#include "stats.h"

typedef struct {
    double psi_to_dead_ms;
    double start_to_dead_ms;
    double arm_to_signal_ms; /* memctld's own record: the event (guard armed) -> SIGKILL */
    double arm_to_freed_ms;  /* ... -> process_mrelease returned */
    double bystander_worst_ms;
    bool bystander_survived;
    bool hog_killed;
    bool kernel_killed;
    char reason[32];
} Run;

typedef struct {
    int psi_fd, stop_fd;
    gint64 first_usec; /* 0 until the first event */
} PsiWatch;

static gpointer psi_watch_thread(gpointer data)
{
    PsiWatch *w = data;
    struct pollfd p[2] = {{.fd = w->psi_fd, .events = POLLPRI}, {.fd = w->stop_fd, .events = POLLIN}};
    while (poll(p, 2, -1) >= 0 || errno == EINTR) {
        if (p[0].revents & POLLPRI) {
            g_atomic_pointer_set((gpointer *)&w->first_usec, (gpointer)(gintptr)g_get_monotonic_time());
            break;
        }
        if (p[1].revents)
            break;
    }
    return NULL;
}

static GThread *psi_watch_start(PsiWatch *w)
{
    w->first_usec = 0;
    w->psi_fd = bench_psi_trigger();
    w->stop_fd = eventfd(0, EFD_CLOEXEC);
    g_assert_cmpint(w->stop_fd, >=, 0);
    return g_thread_new("psi", psi_watch_thread, w);
}

static void psi_watch_stop(PsiWatch *w, GThread *t)
{
    uint64_t one = 1;
    g_assert_cmpint(write(w->stop_fd, &one, sizeof(one)), ==, sizeof(one));
    g_thread_join(t);
    close(w->psi_fd);
    close(w->stop_fd);
}

static uint64_t vmstat(const char *key)
{
    return cgtest_read_key("/proc", "vmstat", key);
}

static double record_ms(const char *rec, const char *key)
{
    const char *a = rec ? strstr(rec, key) : NULL;
    return a ? g_ascii_strtod(a + strlen(key), NULL) / 1000.0 : 0;
}

/* Waits until the host has its memory back (MemAvailable above half of MemTotal), at most 10 s. */
static void settle(void)
{
    for (int i = 0; i < 100; i++) {
        uint64_t avail = cgtest_read_key("/proc", "meminfo", "MemAvailable:");
        uint64_t total = cgtest_read_key("/proc", "meminfo", "MemTotal:");
        if (avail > total / 2)
            break;
        g_usleep(100 * 1000);
    }
    g_usleep(500 * 1000); /* let PSI's 500 ms window pass */
}

typedef enum { WORKLOAD_EXHAUST, WORKLOAD_THRASH, WORKLOAD_FIT } Workload;

static const char *const workload_names[] = {"exhaust", "thrash", "fit"};

/* The hog of each workload (see the top). */
static void workload_hog(Workload w, const char *batch, Hog *hog)
{
    if (w == WORKLOAD_EXHAUST)
        hog_start(hog, (const char *[]){"--cgroup", batch, "--step", "4M", NULL});
    else if (w == WORKLOAD_THRASH)
        hog_start(hog, (const char *[]){"--cgroup", batch, "--total", "3G", "--step", "8M", "--fill",
                                        "random", "--rewalk", NULL});
    else {
        g_autofree char *total = g_strdup_printf(
                "%" G_GUINT64_FORMAT "M", cgtest_read_key("/proc", "meminfo", "MemTotal:") / 1024 + 256);
        hog_start(hog, (const char *[]){"--cgroup", batch, "--total", total, "--step", "1M", "--interval-ms",
                                        "10", "--hold", NULL});
    }
}

static Run one_run(const char *root, DaemonTest *d, Workload wl)
{
    Run r = {0};
    g_autofree char *web = g_build_filename(root, "web", NULL);
    g_autofree char *batch = g_build_filename(root, "batch", NULL);
    Hog by, hog;
    hog_start(&by, (const char *[]){"--cgroup", web, "--total", "16M", "--hold", "--probe-ms", "1", NULL});
    g_assert_true(hog_wait_line(&by, "grown", 30000));
    settle();
    uint64_t oom_before = vmstat("oom_kill");
    PsiWatch w;
    GThread *wt = psi_watch_start(&w);
    gint64 t_start = g_get_monotonic_time();
    workload_hog(wl, batch, &hog);
    int pid = (int)hog.pid;
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    g_assert_cmpint(pidfd, >=, 0);
    gint64 t_dead = 0;
    int st = -1, timeout_ms = 300000;
    if (wl == WORKLOAD_FIT) {
        /* grown, then held for 3 s: still alive, or killed by someone */
        if (hog_wait_line(&hog, "grown", 300000))
            g_usleep(3 * G_USEC_PER_SEC);
        timeout_ms = 0;
    }
    struct pollfd p = {.fd = pidfd, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) == 1) {
        t_dead = g_get_monotonic_time();
        st = hog_wait(&hog, 10000);
    } else {
        if (wl != WORKLOAD_FIT)
            g_printerr("bench-host-guard: the hog was still alive after 300 s (left out of the times)\n");
        hog_kill(&hog);
    }
    close(pidfd);
    psi_watch_stop(&w, wt);
    r.hog_killed = st != -1 && WIFSIGNALED(st); /* SIGKILL, or earlyoom's SIGTERM */
    gint64 t_psi = (gint64)(gintptr)g_atomic_pointer_get((gpointer *)&w.first_usec);
    r.start_to_dead_ms = t_dead ? (double)(t_dead - t_start) / 1000.0 : -1;
    r.psi_to_dead_ms = t_dead && t_psi ? (double)(t_dead - t_psi) / 1000.0 : -1;
    r.kernel_killed = vmstat("oom_kill") > oom_before;

    r.bystander_survived = hog_alive(&by);
    if (r.bystander_survived) {
        kill(by.pid, SIGTERM);
        g_autofree char *line = hog_read_line(&by, "worst_gap_usec ", 10000);
        if (line)
            r.bystander_worst_ms = g_ascii_strtod(line + strlen("worst_gap_usec "), NULL) / 1000.0;
    }
    hog_wait(&by, 10000);

    if (d && r.hog_killed) {
        g_autofree char *needle = g_strdup_printf("\"pid\":%d,", pid);
        g_autofree char *rec = daemontest_wait_record(d, 5000, needle, "\"type\":\"kill\"");
        if (!rec) {
            g_autofree char *all = NULL;
            g_file_get_contents(d->kill_log, &all, NULL, NULL);
            g_autofree char *log = NULL; /* when memctld armed, and what it saw: for the race */
            g_file_get_contents(d->log, &log, NULL, NULL);
            g_printerr("bench-host-guard: no kill record for pid %d in %s\nmemctld said: %s\n", pid,
                       all ? all : "(none)", log ? log : "(nothing)");
        }
        r.arm_to_signal_ms = record_ms(rec, "\"event_to_signal_usec\":");
        r.arm_to_freed_ms = r.arm_to_signal_ms + record_ms(rec, "\"signal_to_freed_usec\":");
        const char *reason = rec ? strstr(rec, "\"reason\":\"") : NULL;
        if (reason)
            sscanf(reason + strlen("\"reason\":\""), "%31[^\"]", r.reason);
        if (rec) /* what the guard saw when it decided: for the runs that took long */
            g_printerr("bench-host-guard: memctld's record: %s\n", rec);
    }
    settle();
    return r;
}

typedef struct {
    const char *name;
    GArray *psi_dead, *start_dead, *arm_signal, *arm_freed, *stall;
    guint runs, hog_killed, survived, kernel_kills, no_psi;
    GString *reasons;
} Mode;

static void mode_init(Mode *m, const char *name)
{
    memset(m, 0, sizeof(*m));
    m->name = name;
    m->psi_dead = g_array_new(FALSE, FALSE, sizeof(double));
    m->start_dead = g_array_new(FALSE, FALSE, sizeof(double));
    m->arm_signal = g_array_new(FALSE, FALSE, sizeof(double));
    m->arm_freed = g_array_new(FALSE, FALSE, sizeof(double));
    m->stall = g_array_new(FALSE, FALSE, sizeof(double));
    m->reasons = g_string_new(NULL);
}

static void mode_add(Mode *m, const Run *r)
{
    m->runs++;
    if (r->psi_to_dead_ms >= 0)
        g_array_append_val(m->psi_dead, r->psi_to_dead_ms);
    else if (r->start_to_dead_ms >= 0)
        m->no_psi++;
    if (r->start_to_dead_ms >= 0)
        g_array_append_val(m->start_dead, r->start_to_dead_ms);
    if (r->arm_to_signal_ms > 0) {
        g_array_append_val(m->arm_signal, r->arm_to_signal_ms);
        g_array_append_val(m->arm_freed, r->arm_to_freed_ms);
    }
    if (r->bystander_survived) {
        m->survived++;
        g_array_append_val(m->stall, r->bystander_worst_ms);
    }
    m->hog_killed += r->hog_killed;
    m->kernel_kills += r->kernel_killed;
    if (r->reason[0] && !strstr(m->reasons->str, r->reason))
        g_string_append_printf(m->reasons, "%s%s", m->reasons->len ? " " : "", r->reason);
}

/* earlyoom with its defaults, started and given time to print its start-up report. */
static GPid earlyoom_start(const char *bin)
{
    const char *argv[] = {bin, "-r", "0", NULL};
    GPid pid = 0;
    g_autoptr(GError) err = NULL;
    if (!g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL,
                       NULL, NULL, &pid, &err))
        g_error("cannot start %s: %s", bin, err->message);
    g_usleep(500 * 1000);
    return pid;
}

static void earlyoom_stop(GPid pid)
{
    kill(pid, SIGTERM);
    int st;
    (void)waitpid(pid, &st, 0);
}

static char *earlyoom_binary(void)
{
    const char *env = g_getenv("MEMCTL_EARLYOOM");
    if (env && *env)
        return g_strdup(env);
    return g_find_program_in_path("earlyoom");
}

static const char config_groups[] =
        "\"groups\": {\"batch\": {\"priority\": 10}, \"web\": {\"priority\": 90}}";

int main(int argc, char **argv)
{
    gint runs = 10;
    g_autofree char *json = NULL, *workload = NULL, *host_policy = NULL;
    GOptionEntry entries[] = {{"runs", 0, 0, G_OPTION_ARG_INT, &runs, "Runs per mode (default 10)", "N"},
                              {"workload", 0, 0, G_OPTION_ARG_STRING, &workload,
                               "exhaust (no swap, the default), thrash or fit (1 GiB of zram swap)", "W"},
                              {"json", 0, 0, G_OPTION_ARG_FILENAME, &json, "Write results as JSON", "FILE"},
                              {"host-policy", 0, 0, G_OPTION_ARG_STRING, &host_policy,
                               "memctld's \"host\" policy object (default: none, the defaults)", "JSON"},
                              {NULL}};
    g_autoptr(GOptionContext) ctx =
            g_option_context_new("- host exhaustion: memctld's guard against the kernel");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || runs < 1) {
        g_printerr("bench-host-guard: %s\n", err ? err->message : "--runs must be positive");
        return 2;
    }
    Workload wl = WORKLOAD_EXHAUST;
    while (workload && wl <= WORKLOAD_FIT && strcmp(workload, workload_names[wl]) != 0)
        wl++;
    if (wl > WORKLOAD_FIT) {
        g_printerr("bench-host-guard: --workload: '%s' is not exhaust, thrash or fit\n", workload);
        return 2;
    }
    cgtest_require_cgroup2();
    if (cgtest_read_key("/proc", "meminfo", "SwapTotal:") > 0) {
        g_printerr("bench-host-guard: the host already has swap: every workload brings its own\n");
        return 1;
    }
    char *zdev = NULL;
    int zram = wl == WORKLOAD_EXHAUST ? -1 : zram_swap_on(1024ull << 20, &zdev);
    if (wl != WORKLOAD_EXHAUST && zram < 0) {
        g_printerr("bench-host-guard: no zram (the zram module) for --workload %s\n", workload);
        return 1;
    }
    uint64_t swap_kb = cgtest_read_key("/proc", "meminfo", "SwapTotal:"); /* the workload's own */
    g_autofree char *dir = g_dir_make_tmp("memctl-bench-host-XXXXXX", &err);
    g_assert_no_error(err);
    g_autofree char *config = g_build_filename(dir, "memctld.json", NULL);
    g_autofree char *config_text = host_policy
                                           ? g_strdup_printf("{%s, \"host\": %s}", config_groups, host_policy)
                                           : g_strdup_printf("{%s}", config_groups);
    g_assert_true(g_file_set_contents(config, config_text, -1, NULL));
    g_autofree char *a_config = g_strdup_printf("--config=%s", config);

    Mode modes[3];
    mode_init(&modes[0], "memctld");
    mode_init(&modes[1], "kernel");
    mode_init(&modes[2], "earlyoom");
    g_autofree char *earlyoom = earlyoom_binary();
    int n_modes = earlyoom ? 3 : 2;
    for (gint i = 0; i < runs; i++) {
        g_autofree char *root = cgtest_root_new("memctl-bench-host");
        DaemonTest d;
        daemontest_start(&d, root, (const char *[]){a_config, NULL});
        Run r = one_run(root, &d, wl);
        mode_add(&modes[0], &r);
        daemontest_stop(&d);
        cgtest_remove_tree(root);

        g_autofree char *kroot = cgtest_root_new("memctl-bench-host-kernel");
        g_free(cgtest_mkdir(kroot, "web"));
        g_free(cgtest_mkdir(kroot, "batch"));
        r = one_run(kroot, NULL, wl);
        mode_add(&modes[1], &r);
        cgtest_remove_tree(kroot);

        if (earlyoom) {
            g_autofree char *eroot = cgtest_root_new("memctl-bench-host-earlyoom");
            g_free(cgtest_mkdir(eroot, "web"));
            g_free(cgtest_mkdir(eroot, "batch"));
            GPid e = earlyoom_start(earlyoom);
            r = one_run(eroot, NULL, wl);
            earlyoom_stop(e);
            mode_add(&modes[2], &r);
            cgtest_remove_tree(eroot);
        }
    }
    cgtest_remove_tmpdir(dir);
    zram_swap_off(zram, zdev);

    g_autofree char *kernel = bench_kernel_release();
    uint64_t total_kb = cgtest_read_key("/proc", "meminfo", "MemTotal:");
    printf("kernel %s, MemTotal %" G_GUINT64_FORMAT " MiB, swap %" G_GUINT64_FORMAT " MiB\n", kernel,
           total_kb / 1024, swap_kb / 1024);
    printf("workload %s%s\n", workload_names[wl],
           wl == WORKLOAD_EXHAUST ? " (no swap)" : " (1 GiB of zram swap)");
    printf("memctld's policy: %s\n", config_text);
    printf("%d runs per mode, interleaved; times in ms%s\n\n", runs,
           earlyoom ? "" : " (no earlyoom: set MEMCTL_EARLYOOM or put it on PATH for its mode)");
    printf("| mode | first host PSI event -> hog dead p50 | p99 | max | hog start -> dead p50 | guard armed "
           "-> "
           "SIGKILL p50 | p99 | -> memory freed p50 | p99 | bystander worst stall p50 | p99 | max | hog "
           "killed | bystander survived | "
           "kernel OOM kills | reasons |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    g_autoptr(GString) js = g_string_new(NULL);
    g_string_append_printf(
            js, "{\n  \"kernel\": \"%s\",\n  \"workload\": \"%s\",\n  \"runs\": %d,\n  \"modes\": {\n",
            kernel, workload_names[wl], runs);
    for (int m = 0; m < n_modes; m++) {
        Mode *x = &modes[m];
        printf("| %s | ", x->name);
        if (x->psi_dead->len) /* none: the hog died (or lived) before any task stalled for the bench */
            printf("%.1f | %.1f | %.1f | ", bench_pct(x->psi_dead, .5), bench_pct(x->psi_dead, .99),
                   bench_pct(x->psi_dead, 1));
        else
            printf("- | - | - | ");
        if (x->start_dead->len)
            printf("%.0f | ", bench_pct(x->start_dead, .5));
        else
            printf("- | ");
        if (x->arm_signal->len)
            printf("%.1f | %.1f | %.1f | %.1f | ", bench_pct(x->arm_signal, .5),
                   bench_pct(x->arm_signal, .99), bench_pct(x->arm_freed, .5), bench_pct(x->arm_freed, .99));
        else
            printf("- | - | - | - | ");
        printf("%.1f | %.1f | %.1f | %u/%u | %u/%u | %u | %s |\n", bench_pct(x->stall, .5),
               bench_pct(x->stall, .99), bench_pct(x->stall, 1), x->hog_killed, x->runs, x->survived, x->runs,
               x->kernel_kills, x->reasons->len ? x->reasons->str : "-");
        if (x->no_psi)
            printf("(%s: %u runs saw no PSI event before the hog died)\n", x->name, x->no_psi);
        g_string_append_printf(
                js,
                "    \"%s\": {\"psi_to_dead_p50_ms\": %.2f, \"psi_to_dead_p99_ms\": %.2f, "
                "\"arm_to_signal_p50_ms\": %.2f, \"arm_to_freed_p50_ms\": %.2f, \"stall_p50_ms\": %.2f, "
                "\"stall_p99_ms\": "
                "%.2f, \"stall_max_ms\": %.2f, \"hog_killed\": %u, \"bystander_survived\": %u, "
                "\"kernel_oom_kills\": %u}%s\n",
                x->name, bench_pct(x->psi_dead, .5), bench_pct(x->psi_dead, .99),
                bench_pct(x->arm_signal, .5), bench_pct(x->arm_freed, .5), bench_pct(x->stall, .5),
                bench_pct(x->stall, .99), bench_pct(x->stall, 1), x->hog_killed, x->survived, x->kernel_kills,
                m < n_modes - 1 ? "," : "");
        g_string_free(x->reasons, TRUE);
    }
    g_string_append(js, "  }\n}\n");
    if (json && !g_file_set_contents(json, js->str, -1, &err)) {
        g_printerr("bench-host-guard: %s\n", err->message);
        return 1;
    }
    return 0;
}
