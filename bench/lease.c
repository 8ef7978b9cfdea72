/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-lease: how fast a critical client gets 32 MiB of memory it can write while the host runs
 * out of memory, from a memctl lease and, as the baseline, from the kernel (its own anonymous
 * memory), runs interleaved in one invocation.
 *
 *   bench-lease [--runs N]
 *
 * Per run: memctld with a 64 MiB reserve on a private bus, a group "crit" (no limit) registered
 * critical with 32 MiB; tests/lib/reserve-client in it, waiting. A hog outside the managed root
 * (so that memctld cannot kill it: the pressure lasts until the kernel's OOM killer ends it) grows
 * 8 MiB at a time. At the bench's first host PSI event ("some 5ms in 500ms") the client is told to
 * go and writes 32 MiB a MiB at a time:
 *   held   the lease acquired and mapped before (the recommended use): the writes only
 *   lease  AcquireReserve over D-Bus at go, mmap of the memfd, the writes
 *   anon   mmap of its own anonymous memory and the writes (the kernel's page allocator)
 * Reported: go -> 32 MiB written (total), the slowest MiB, runs where the client finished, and
 * whom the kernel's OOM killer killed.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stats.h"
#include "tests/lib/cgtest.h"
#include "tests/lib/reservetest.h"

#define MiB ((uint64_t)1024 * 1024)

typedef struct {
    double total_ms, worst_ms;
    bool finished, client_killed, hog_killed, no_psi;
} Run;

static uint64_t field(const char *line, const char *key)
{
    const char *p = line ? strstr(line, key) : NULL;
    return p ? g_ascii_strtoull(p + strlen(key), NULL, 10) : 0;
}

static void call(ApiTest *t, const char *method, GVariant *params)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GVariant) r = bustest_call(&t->bus, method, params, &err);
    if (!r)
        g_error("%s: %s", method, err->message);
}

/* Waits until the host has its memory back (MemAvailable above half of MemTotal), then for PSI's
 * 500 ms window to pass. */
static void settle(void)
{
    for (int i = 0; i < 100; i++) {
        if (cgtest_read_key("/proc", "meminfo", "MemAvailable:") >
            cgtest_read_key("/proc", "meminfo", "MemTotal:") / 2)
            break;
        g_usleep(100 * 1000);
    }
    g_usleep(500 * 1000);
}

/* mode: reserve-client's flag (--early, --anon), or NULL for a lease acquired at go. */
static Run one_run(const char *mode)
{
    Run r = {0};
    ApiTest t;
    apitest_start(&t, "memctl-bench-lease", (const char *[]){"--reserve=64M", NULL});
    call(&t, "CreateGroup", g_variant_new_parsed("('crit', @a{sv} {})"));
    call(&t, "RegisterCritical", g_variant_new("(sut)", "crit", 0u, (guint64)(32 * MiB)));
    g_autofree char *crit = g_build_filename(t.root, "crit", NULL);
    g_autofree char *outside = cgtest_root_new("memctl-bench-lease-hog");
    g_autofree char *hogdir = cgtest_mkdir(outside, "hog");

    ReserveClient c;
    reserve_client_start(&c, &t, crit, 32 * MiB, (const char *[]){mode, NULL});
    g_free(reserve_client_line(&c, "ready", 10000));
    settle();
    int psi = bench_psi_trigger();
    Hog hog;
    hog_start(&hog, (const char *[]){"--cgroup", hogdir, "--step", "8M", NULL});
    struct pollfd p = {.fd = psi, .events = POLLPRI};
    r.no_psi = poll(&p, 1, 120000) != 1;
    close(psi);
    reserve_client_go(&c);
    g_autofree char *wrote = reserve_client_line(&c, "wrote", 120000);
    r.finished = wrote != NULL;
    r.total_ms = (double)field(wrote, "total_usec ") / 1000.0;
    r.worst_ms = (double)field(wrote, "worst_chunk_usec ") / 1000.0;
    int st = hog_wait(&hog, 120000);
    if (st == -1)
        st = hog_kill(&hog);
    r.hog_killed = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
    if (!r.finished) {
        g_autofree char *e = reserve_client_stderr(&c);
        g_printerr("bench-lease: the %s client did not finish: %s\n", mode ? mode : "lease", e);
    }
    int cst = reserve_client_kill(&c);
    r.client_killed = !r.finished && cst != -1 && WIFSIGNALED(cst);
    cgtest_remove_tree(outside);
    apitest_stop(&t);
    settle();
    return r;
}

typedef struct {
    const char *name;
    GArray *total, *worst;
    guint runs, finished, client_killed, hog_killed, no_psi;
} Mode;

static void mode_add(Mode *m, const Run *r)
{
    m->runs++;
    if (r->finished) {
        m->finished++;
        g_array_append_val(m->total, r->total_ms);
        g_array_append_val(m->worst, r->worst_ms);
    }
    m->client_killed += r->client_killed;
    m->hog_killed += r->hog_killed;
    m->no_psi += r->no_psi;
}

int main(int argc, char **argv)
{
    gint runs = 10;
    GOptionEntry entries[] = {{"runs", 0, 0, G_OPTION_ARG_INT, &runs, "Runs per mode (default 10)", "N"},
                              {NULL}};
    g_autoptr(GOptionContext) ctx =
            g_option_context_new("- a lease against the kernel's allocator under host exhaustion");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || runs < 1) {
        g_printerr("bench-lease: %s\n", err ? err->message : "--runs must be positive");
        return 2;
    }
    cgtest_require_cgroup2();
    static const char *const flags[3] = {"--early", NULL, "--anon"}; /* NULL: at go */
    Mode modes[3] = {{.name = "a lease held (acquired before)"},
                     {.name = "a lease acquired at go"},
                     {.name = "its own anon memory (kernel)"}};
    for (int k = 0; k < 3; k++) {
        modes[k].total = g_array_new(FALSE, FALSE, sizeof(double));
        modes[k].worst = g_array_new(FALSE, FALSE, sizeof(double));
    }
    for (gint i = 0; i < runs; i++)
        for (int k = 0; k < 3; k++) {
            Run r = one_run(flags[k]);
            mode_add(&modes[k], &r);
        }

    g_autofree char *kernel = bench_kernel_release();
    printf("kernel %s, MemTotal %" G_GUINT64_FORMAT " MiB, swap %" G_GUINT64_FORMAT " MiB\n", kernel,
           cgtest_read_key("/proc", "meminfo", "MemTotal:") / 1024,
           cgtest_read_key("/proc", "meminfo", "SwapTotal:") / 1024);
    printf("%d runs per mode, interleaved; 32 MiB written from the first host PSI event; times in ms\n\n",
           runs);
    printf("| memory from | go -> 32 MiB written p50 | p99 | max | slowest MiB p50 | p99 | max | finished | "
           "client killed | hog killed by the kernel | no PSI event |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int k = 0; k < 3; k++) {
        Mode *m = &modes[k];
        printf("| %s | %.1f | %.1f | %.1f | %.2f | %.2f | %.2f | %u/%u | %u | %u | %u |\n", m->name,
               bench_pct(m->total, 0.5), bench_pct(m->total, 0.99), bench_pct(m->total, 1.0),
               bench_pct(m->worst, 0.5), bench_pct(m->worst, 0.99), bench_pct(m->worst, 1.0), m->finished,
               m->runs, m->client_killed, m->hog_killed, m->no_psi);
        g_array_unref(m->total);
        g_array_unref(m->worst);
    }
    return 0;
}
