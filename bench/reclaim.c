/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-reclaim: what proactive reclaim (reclaim=auto) saves and what it costs, against no reclaim
 * and against an oracle, modes interleaved in one invocation.
 *
 *   bench-reclaim [--runs N] [--workload file|zram] [--warmup S] [--measure S]
 *
 * The service (tests/lib/service) runs in a group "svc" of memctld's root, its files on ext4 on a
 * zram disk (the VM's root is 9p):
 *   file  reads 300 MiB of file once at start, then serves a hot set of 48 MiB (24 MiB of a file
 *         read at random, 24 MiB of anonymous memory written at random); no swap
 *   zram  the same, with 200 MiB of anonymous memory written once at start, and 1 GiB of zram swap
 * Modes: none (memctld, reclaim off); auto (reclaim=auto, the defaults: a 6 s interval, 0.1%);
 * oracle (memory.high at the hot set plus 8 MiB: what nobody knows in practice).
 * After --warmup seconds (default 90: the controller's ramp at a 6 s interval), over --measure
 * seconds (default 30): the steady memory (memory.current sampled each second, its median; for zram
 * plus what zram's swap device holds in RAM, its mem_used_total), the service's operations a second
 * and their p99 latency, the group's PSI "some" stall (ms a second), memctld's CPU (% of one).
 * Medians over the runs, and each run's operations a second: under TCG they spread by tens of
 * percent between runs of the same mode.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "stats.h"
#include "tests/lib/cgtest.h"
#include "tests/lib/daemontest.h"
#include "tests/lib/zram.h"

#define MiB ((uint64_t)1024 * 1024)
#define HOT_FILE (24 * MiB)
#define HOT_ANON (24 * MiB)

typedef enum { MODE_NONE, MODE_AUTO, MODE_ORACLE, _MODE_COUNT } Mode;
static const char *const mode_names[_MODE_COUNT] = {"no reclaim", "memctl reclaim=auto",
                                                    "oracle (memory.high at the hot set)"};

typedef struct {
    GArray *memory, *ops, *p99, *stall, *cpu; /* doubles: MiB, ops/s, us, ms/s, % */
    guint lost;
} Results;

static struct {
    char *mnt, *cold, *hot;
    int files_zram, swap_zram;
    char *swap_dev;
    bool zram;
    int warmup, measure;
} B;

static void write_file(const char *path, uint64_t size)
{
    FILE *f = fopen(path, "we");
    if (!f)
        g_error("cannot write %s", path);
    g_autofree char *buf = g_malloc(MiB);
    for (uint64_t i = 0; i < MiB; i++)
        buf[i] = (char)('a' + i % 23);
    for (uint64_t done = 0; done < size; done += MiB)
        if (fwrite(buf, 1, MiB, f) != MiB)
            g_error("short write to %s", path);
    fflush(f);
    fsync(fileno(f));
    fclose(f);
}

static uint64_t swap_held(void)
{
    if (!B.zram)
        return 0;
    g_autofree char *dir = g_strdup_printf("/sys/block/zram%d", B.swap_zram);
    g_autofree char *text = cgtest_read(dir, "mm_stat");
    uint64_t v[3] = {0};
    if (text)
        sscanf(text, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, &v[0], &v[1], &v[2]);
    return v[2]; /* mem_used_total */
}

static uint64_t cpu_ticks(GPid pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    const char *p = strrchr(text, ')');
    unsigned long long ut = 0, st = 0;
    if (p)
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st);
    return ut + st;
}

static uint64_t some_total(const char *group)
{
    g_autofree char *text = cgtest_read(group, "memory.pressure");
    const char *t = text ? strstr(text, "total=") : NULL;
    return t ? g_ascii_strtoull(t + 6, NULL, 10) : 0;
}

static double field(const char *line, const char *key)
{
    const char *p = line ? strstr(line, key) : NULL;
    return p ? g_ascii_strtod(p + strlen(key), NULL) : -1;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void one_run(Mode mode, Results *res)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("memctl-bench-reclaim-XXXXXX", &err);
    g_autofree char *config = g_build_filename(dir, "memctld.json", NULL);
    const char *svc = mode == MODE_AUTO     ? "{\"reclaim\": \"auto\"}"
                      : mode == MODE_ORACLE ? "{\"high\": \"56M\"}" /* the hot set, 8 MiB more */
                                            : "{}";
    g_autofree char *text = g_strdup_printf("{\"groups\": {\"svc\": %s}}", svc);
    g_assert_true(g_file_set_contents(config, text, -1, NULL));
    g_autofree char *root = cgtest_root_new("memctl-bench-reclaim");
    g_autofree char *a_config = g_strdup_printf("--config=%s", config);
    DaemonTest d;
    daemontest_start(&d, root, (const char *[]){a_config, NULL});
    g_autofree char *group = g_build_filename(root, "svc", NULL);
    g_autofree char *seconds = g_strdup_printf("%d", B.warmup + B.measure);
    g_autofree char *warmup = g_strdup_printf("%d", B.warmup);
    const char *args[] = {"--cgroup",
                          group,
                          "--cold-file",
                          B.cold,
                          "--hot-file",
                          B.hot,
                          "--hot-anon",
                          "24M",
                          "--seconds",
                          seconds,
                          "--warmup",
                          warmup,
                          B.zram ? "--cold-anon" : NULL,
                          "200M",
                          NULL};
    uint64_t swap0 = swap_held();
    Hog h;
    workload_start(&h, "tests/lib/service", args);
    g_usleep((gulong)B.warmup * G_USEC_PER_SEC);
    uint64_t cpu0 = cpu_ticks(d.pid), some0 = some_total(group);
    gint64 t0 = g_get_monotonic_time();
    g_autofree uint64_t *mem = g_new0(uint64_t, (gsize)B.measure);
    for (int i = 0; i < B.measure; i++) {
        uint64_t held = swap_held();
        mem[i] = cgtest_read_u64(group, "memory.current") + (held > swap0 ? held - swap0 : 0);
        g_usleep(G_USEC_PER_SEC);
    }
    double dt = (double)(g_get_monotonic_time() - t0) / 1e6;
    uint64_t cpu1 = cpu_ticks(d.pid), some1 = some_total(group);
    g_autofree char *line = hog_read_line(&h, "ops ", 60000);
    int st = hog_wait(&h, 30000);
    if (!line || st == -1) {
        if (st == -1)
            hog_kill(&h);
        res->lost++;
        g_printerr("bench-reclaim: %s: a run lost (the service %s)\n", mode_names[mode],
                   line ? "did not exit" : "printed no summary");
    } else {
        qsort(mem, (size_t)B.measure, sizeof(*mem), cmp_u64);
        double v[5] = {(double)mem[B.measure / 2] / MiB, field(line, "ops ") / field(line, "seconds "),
                       field(line, "p99_us "), (double)(some1 - some0) / 1000.0 / dt,
                       100.0 * (double)(cpu1 - cpu0) / (double)sysconf(_SC_CLK_TCK) / dt};
        GArray *a[5] = {res->memory, res->ops, res->p99, res->stall, res->cpu};
        for (int k = 0; k < 5; k++)
            g_array_append_val(a[k], v[k]);
    }
    daemontest_stop(&d);
    cgtest_remove_tree(root);
    cgtest_remove_tmpdir(dir);
}

int main(int argc, char **argv)
{
    int runs = 3;
    const char *workload = "file";
    B.warmup = 90;
    B.measure = 30;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--runs"))
            runs = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--workload"))
            workload = argv[i + 1];
        else if (!strcmp(argv[i], "--warmup"))
            B.warmup = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--measure"))
            B.measure = atoi(argv[i + 1]);
        else
            g_error("unknown option %s", argv[i]);
    }
    if (runs < 1 || B.warmup < 0 || B.measure < 1 || (strcmp(workload, "file") && strcmp(workload, "zram")))
        g_error("bad arguments");
    cgtest_require_cgroup2();
    B.zram = strcmp(workload, "zram") == 0;
    B.mnt = zram_ext4_mount(768 * MiB, &B.files_zram);
    if (!B.mnt)
        g_error("no zram: the files need an ext4 on a zram disk");
    if (B.zram && (B.swap_zram = zram_swap_on(1024 * MiB, &B.swap_dev)) < 0)
        g_error("no zram swap");
    B.cold = g_build_filename(B.mnt, "cold", NULL);
    B.hot = g_build_filename(B.mnt, "hot", NULL);
    write_file(B.cold, 300 * MiB);
    write_file(B.hot, HOT_FILE);

    Results res[_MODE_COUNT];
    for (int m = 0; m < _MODE_COUNT; m++) {
        GArray **a[5] = {&res[m].memory, &res[m].ops, &res[m].p99, &res[m].stall, &res[m].cpu};
        for (int k = 0; k < 5; k++)
            *a[k] = g_array_new(FALSE, FALSE, sizeof(double));
        res[m].lost = 0;
    }
    for (int i = 0; i < runs; i++)
        for (int m = 0; m < _MODE_COUNT; m++)
            one_run((Mode)m, &res[m]);

    g_autofree char *kernel = bench_kernel_release();
    printf("kernel %s, MemTotal %" G_GUINT64_FORMAT " MiB; workload %s: 300 MiB of file read once, a hot set "
           "of 24 MiB of file and 24 MiB of anon%s\n",
           kernel, cgtest_read_key("/proc", "meminfo", "MemTotal:") / 1024, workload,
           B.zram ? ", 200 MiB of anon written once, 1 GiB of zram swap" : ", no swap");
    printf("%d runs per mode, interleaved; %d s of warm-up, then %d s measured; medians over the runs\n\n",
           runs, B.warmup, B.measure);
    printf("| mode | steady memory (MiB)%s | ops/s | p99 (us) | PSI some (ms/s) | memctld CPU (%%) | runs "
           "lost | ops/s of each run, sorted |\n",
           B.zram ? ", zram's RAM included" : "");
    printf("|---|---|---|---|---|---|---|---|\n");
    double med[_MODE_COUNT][3];
    for (int m = 0; m < _MODE_COUNT; m++) {
        med[m][0] = bench_pct(res[m].memory, 0.5);
        med[m][1] = bench_pct(res[m].ops, 0.5);
        med[m][2] = bench_pct(res[m].p99, 0.5);
        printf("| %s | %.1f | %.0f | %.0f | %.2f | %.2f | %u |", mode_names[m], med[m][0], med[m][1],
               med[m][2], bench_pct(res[m].stall, 0.5), bench_pct(res[m].cpu, 0.5), res[m].lost);
        for (guint r = 0; r < res[m].ops->len; r++) /* the spread the median hides */
            printf("%s%.0f", r ? " / " : " ", g_array_index(res[m].ops, double, r));
        printf(" |\n");
    }
    if (med[MODE_NONE][0] > 0 && med[MODE_NONE][1] > 0 && med[MODE_NONE][2] > 0 && med[MODE_ORACLE][0] > 0)
        printf("\nreclaim=auto against no reclaim: memory %.0f%% lower, throughput %+.1f%%, p99 %+.1f%%; "
               "memory "
               "%+.1f%% against the oracle\n",
               100.0 * (1 - med[MODE_AUTO][0] / med[MODE_NONE][0]),
               100.0 * (med[MODE_AUTO][1] / med[MODE_NONE][1] - 1),
               100.0 * (med[MODE_AUTO][2] / med[MODE_NONE][2] - 1),
               100.0 * (med[MODE_AUTO][0] / med[MODE_ORACLE][0] - 1));
    if (B.zram)
        zram_swap_off(B.swap_zram, B.swap_dev);
    zram_ext4_unmount(B.files_zram, B.mnt);
    return 0;
}
