/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host guard on the real kernel (WHY.md §4, §5), in the test VM (1 GiB): a hog without any limit
 * that exhausts the host is killed by memctld before the kernel's global OOM killer fires, while a
 * bystander keeps running (its worst stall is measured); with zram swap, a workload that fits in
 * RAM + swap and swaps out steadily is never killed; a workload that thrashes (working set far above
 * RAM + swap) is killed within the stall budget.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/swap.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/cgtest.h"
#include "tests/lib/daemontest.h"
#include "tests/lib/zram.h"

#define MiB ((uint64_t)1024 * 1024)

static uint64_t vmstat(const char *key)
{
    return cgtest_read_key("/proc", "vmstat", key);
}

static uint64_t meminfo_kb(const char *key)
{
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents("/proc/meminfo", &text, NULL, NULL));
    g_autofree char *k = g_strdup_printf("%s:", key);
    for (const char *p = text; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (g_str_has_prefix(p, k))
            return g_ascii_strtoull(p + strlen(k), NULL, 10);
    return 0;
}

typedef struct {
    char *root, *dir;
    DaemonTest d;
} HostTest;

/* memctld with groups batch (priority 10) and web (90), the host section given (NULL: defaults) and
 * more top-level keys (extra, NULL: none). batch has a pre-kill wait of 10 s, which a verdict of its
 * own would take (none comes: it has no high), and which the host guard's kills never wait for: a
 * guard that waited would leave the host to the kernel's OOM killer. */
static void host_start_with(HostTest *t, const char *prefix, const char *host_json, const char *extra)
{
    g_autoptr(GError) err = NULL;
    t->dir = g_dir_make_tmp("memctl-host-XXXXXX", &err);
    g_assert_no_error(err);
    g_autofree char *config = g_build_filename(t->dir, "memctld.json", NULL);
    g_autofree char *text =
            g_strdup_printf("{\"groups\": {\"batch\": {\"priority\": 10, \"prekill_timeout\": \"10s\"},"
                            " \"web\": {\"priority\": 90}}"
                            "%s%s%s%s}",
                            host_json ? ", \"host\": " : "", host_json ? host_json : "", extra ? ", " : "",
                            extra ? extra : "");
    g_assert_true(g_file_set_contents(config, text, -1, NULL));
    t->root = cgtest_root_new(prefix);
    g_autofree char *a_config = g_strdup_printf("--config=%s", config);
    daemontest_start(&t->d, t->root, (const char *[]){a_config, NULL});
}

static void host_start(HostTest *t, const char *prefix, const char *host_json)
{
    host_start_with(t, prefix, host_json, NULL);
}

static void host_stop(HostTest *t)
{
    daemontest_stop(&t->d);
    cgtest_remove_tree(t->root);
    cgtest_remove_tmpdir(t->dir);
    g_free(t->root);
    g_free(t->dir);
}

/* Stops the bystander (16 MiB held, probing every 10 ms); returns its worst gap between probes. */
static uint64_t bystander_stop(Hog *h)
{
    g_assert_true(hog_alive(h));
    kill(h->pid, SIGTERM);
    g_autofree char *line = hog_read_line(h, "worst_gap_usec ", 10000);
    g_assert_nonnull(line);
    g_assert_cmpint(hog_wait(h, 10000), !=, -1);
    return g_ascii_strtoull(line + strlen("worst_gap_usec "), NULL, 10);
}

/* The scheduling policy of memctld's core thread (field 41 of its stat: 0 SCHED_OTHER, 2 SCHED_RR),
 * or -1. */
static int core_policy(const char *task_dir)
{
    g_autofree char *path = g_build_filename(task_dir, "stat", NULL);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return -1;
    const char *p = strrchr(text, ')');
    g_auto(GStrv) f = p ? g_strsplit(p + 2, " ", 0) : NULL;
    return f && g_strv_length(f) > 38 ? atoi(f[38]) : -1; /* f[0] is field 3 */
}

static char *core_task_dir(GPid pid)
{
    g_autofree char *tasks = g_strdup_printf("/proc/%d/task", (int)pid);
    g_autoptr(GDir) dir = g_dir_open(tasks, 0, NULL);
    g_assert_nonnull(dir);
    for (const char *e; (e = g_dir_read_name(dir));) {
        g_autofree char *task = g_build_filename(tasks, e, NULL);
        g_autofree char *comm_path = g_build_filename(task, "comm", NULL);
        g_autofree char *comm = NULL;
        if (g_file_get_contents(comm_path, &comm, NULL, NULL) && g_str_has_prefix(comm, "memctl-core"))
            return g_steal_pointer(&task);
    }
    g_error("memctld %d has no memctl-core thread", (int)pid);
}

typedef struct {
    char *task;
    gint stop;
    guint samples, other; /* samples taken, and those at SCHED_OTHER */
} PolicyWatch;

static gpointer policy_watch_thread(gpointer data)
{
    PolicyWatch *w = data;
    while (!g_atomic_int_get(&w->stop)) {
        int p = core_policy(w->task);
        w->samples++;
        w->other += p == 0;
        g_usleep(500);
    }
    return NULL;
}

/*
 * The host runs out with no swap: memctld kills the hog before the kernel's OOM killer, and the
 * bystander keeps running. The core decides and signals at SCHED_RR, and reaps the victim
 * (process_mrelease) at SCHED_OTHER: at real-time priority the reap took a CPU from every other task
 * for its whole length (docs/BENCHMARKS.md, host guard). It is real-time again afterwards.
 */
/*
 * The host's PSI trigger uses a 100 ms window where the kernel allows it (Linux 6.5 and later: it
 * fires within ~10 ms of the stall), and falls back to 500 ms, the least before 6.5 (~50 ms). Run on
 * both kernels of the VM, each path is taken on one.
 */
static void test_psi_window(void)
{
    struct utsname u;
    g_assert_no_errno(uname(&u));
    unsigned major = 0, minor = 0;
    g_assert_cmpint(sscanf(u.release, "%u.%u", &major, &minor), ==, 2);
    bool short_ok = major > 6 || (major == 6 && minor >= 5);
    HostTest t;
    host_start(&t, "memctl-host-window", NULL);
    g_autofree char *log = NULL;
    g_assert_true(g_file_get_contents(t.d.log, &log, NULL, NULL));
    const char *want = short_ok ? "some 5 ms in a 100 ms window\n"
                                : "some 5 ms in a 500 ms window (the least this kernel allows";
    if (!strstr(log, want))
        g_error("on %s memctld should say '%s'; it said: %s", u.release, want, log);
    g_test_message("%s: %s", u.release, want);
    host_stop(&t);
}

static void test_exhaustion(void)
{
    HostTest t;
    host_start(&t, "memctl-host-exhaust", NULL);
    g_autofree char *web = g_build_filename(t.root, "web", NULL);
    g_autofree char *batch = g_build_filename(t.root, "batch", NULL);
    Hog by, hog;
    hog_start(&by, (const char *[]){"--cgroup", web, "--total", "16M", "--hold", "--probe-ms", "10", NULL});
    g_assert_true(hog_wait_line(&by, "grown", 30000));
    uint64_t oom_before = vmstat("oom_kill");
    g_test_message("MemTotal %" G_GUINT64_FORMAT " kB, MemAvailable %" G_GUINT64_FORMAT
                   " kB, swap %" G_GUINT64_FORMAT " kB",
                   meminfo_kb("MemTotal"), meminfo_kb("MemAvailable"), meminfo_kb("SwapTotal"));
    PolicyWatch pw = {.task = core_task_dir(t.d.pid)};
    g_assert_cmpint(core_policy(pw.task), ==, 2); /* SCHED_RR */
    GThread *pt = g_thread_new("policy", policy_watch_thread, &pw);
    hog_start(&hog, (const char *[]){"--cgroup", batch, "--step", "4M", NULL});
    int st = hog_wait(&hog, 120000);
    g_assert_cmpint(st, !=, -1);
    g_autofree char *rec = daemontest_wait_record(&t.d, 5000, "\"type\":\"kill\"", "\"group\":\"batch\"");
    g_atomic_int_set(&pw.stop, 1);
    g_thread_join(pt);
    const char *reaped = rec ? strstr(rec, "\"reap_usec\":") : NULL;
    uint64_t reap_usec = reaped ? g_ascii_strtoull(reaped + strlen("\"reap_usec\":"), NULL, 10) : 0;
    g_test_message("core thread: %u of %u samples at SCHED_OTHER; the reap took %.1f ms", pw.other,
                   pw.samples, reap_usec / 1000.0);
    /* A reap long enough for the 0.5 ms sampler to catch is seen at SCHED_OTHER; a shorter one may
     * fall between two samples (the sampler sleeps at least 0.5 ms, more under TCG). */
    if (reap_usec >= 20000)
        g_assert_cmpuint(pw.other, >, 0);
    g_assert_cmpint(core_policy(pw.task), ==, 2);
    g_free(pw.task);
    g_test_message("record: %s", rec ? rec : "(none)");
    g_autofree char *log = NULL;
    g_file_get_contents(t.d.log, &log, NULL, NULL);
    g_test_message("memctld: %s", log);
    g_assert_nonnull(rec);
    g_assert_nonnull(strstr(rec, "\"reason\":\"host-"));
    g_assert_nonnull(reaped);
    g_assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    g_assert_cmpuint(vmstat("oom_kill"), ==, oom_before); /* the kernel's OOM killer never fired */
    g_assert_null(strstr(rec, "prekill_usec"));           /* the host guard never waits for hooks */
    g_assert_cmpuint(cgtest_read_u64(batch, "cgroup.freeze"), ==, 0);
    uint64_t gap = bystander_stop(&by);
    g_test_message("bystander's worst stall: %.1f ms", gap / 1000.0);
    g_assert_cmpuint(gap, <, 3 * G_USEC_PER_SEC); /* bound measured under TCG: docs/BENCHMARKS.md */
    host_stop(&t);
}

/* WHY.md §5: a workload that fits in RAM + swap and swaps out steadily is never killed. */
static void test_swap_progress_no_kill(void)
{
    char *dev = NULL;
    int z = zram_swap_on(1024 * MiB, &dev);
    if (z < 0)
        return;
    HostTest t;
    host_start(&t, "memctl-host-swap", NULL);
    g_autofree char *batch = g_build_filename(t.root, "batch", NULL);
    uint64_t oom_before = vmstat("oom_kill"), pswpout_before = vmstat("pswpout");
    uint64_t total_mib = meminfo_kb("MemTotal") / 1024 + 256; /* RAM + 256 MiB: must swap */
    g_autofree char *total = g_strdup_printf("%" G_GUINT64_FORMAT "M", total_mib);
    Hog hog;
    hog_start(&hog, (const char *[]){"--cgroup", batch, "--total", total, "--step", "1M", "--interval-ms",
                                     "10", "--hold", NULL});
    if (!hog_wait_line(&hog, "grown", 300000)) {
        g_autofree char *log = NULL, *herr = hog_stderr(&hog);
        g_file_get_contents(t.d.log, &log, NULL, NULL);
        g_autofree char *kills = NULL;
        g_usleep(G_USEC_PER_SEC); /* memctld writes a record once the victim's memory is back */
        g_file_get_contents(t.d.kill_log, &kills, NULL, NULL);
        g_test_message("kill log: %s", kills ? kills : "");
        g_error("the workload did not grow (status %d): memctld said: %s; memhog: %s; kernel OOM kills "
                "%" G_GUINT64_FORMAT ", swapped out %" G_GUINT64_FORMAT " pages",
                hog_wait(&hog, 5000), log, herr, vmstat("oom_kill") - oom_before,
                vmstat("pswpout") - pswpout_before);
    }
    g_usleep(3 * G_USEC_PER_SEC);
    uint64_t swapped = (vmstat("pswpout") - pswpout_before) * 4096;
    g_test_message("grew to %" G_GUINT64_FORMAT " MiB; swapped out %" G_GUINT64_FORMAT " MiB", total_mib,
                   swapped / MiB);
    g_assert_cmpuint(swapped, >, 128 * MiB); /* the host really was short of memory */
    g_assert_true(hog_alive(&hog));
    g_assert_cmpuint(daemontest_count_records(&t.d, "\"type\":\"kill\""), ==, 0);
    g_assert_cmpuint(vmstat("oom_kill"), ==, oom_before);
    g_autofree char *log = NULL;
    g_file_get_contents(t.d.log, &log, NULL, NULL);
    g_test_message("host guard armed: %s", strstr(log, "host: pressure") ? "yes" : "no");
    /* The hog holds its memory and waits: nobody stalls any more, so the guard disarms within a
     * second and says how close the stall came to the budget that kills despite progress. */
    const char *calm = strstr(log, "host: calm, guard disarmed");
    if (strstr(log, "host: pressure")) {
        g_assert_nonnull(calm);
        g_test_message("%.*s", (int)strcspn(calm, "\n"), calm);
    }
    hog_kill(&hog);
    host_stop(&t);
    zram_swap_off(z, dev);
}

/* WHY.md §5, the other side: a working set far above RAM + swap thrashes; memctld kills it within the
 * stall budget. With `zram` MiB of zram swap and pseudo-random pages (zram cannot compress them).
 * With 256 MiB, swap fills first (host-exhausted, or the progress verdict before it); with 1 GiB,
 * RAM runs out first, into zram itself: swap-out frees nothing, which two kinds of knowledge see:
 * zram's own figures (what it holds for what it was given: free zram swap that saves nothing is no
 * swap, so the host is exhausted) and an honest progress measure (swap-ins and zram's own RAM
 * counted against reclaim). The watermark guard, which also catches it (5-7 s), is off there: the
 * kill must say host-exhausted or host-no-progress, or the kernel's OOM killer fires and the test
 * fails. */
static void thrash(uint64_t zram_mib, const char *host_json, const char *want_reason, const char *or_reason,
                   uint64_t bound_usec)
{
    char *dev = NULL;
    int z = zram_swap_on(zram_mib * MiB, &dev);
    if (z < 0)
        return;
    HostTest t;
    host_start(&t, "memctl-host-thrash", host_json);
    g_autofree char *batch = g_build_filename(t.root, "batch", NULL);
    uint64_t oom_before = vmstat("oom_kill");
    Hog hog;
    hog_start(&hog, (const char *[]){"--cgroup", batch, "--total", "3G", "--step", "8M", "--fill", "random",
                                     "--rewalk", NULL});
    int st = hog_wait(&hog, 300000);
    g_assert_cmpint(st, !=, -1);
    g_autofree char *rec = daemontest_wait_record(&t.d, 30000, "\"type\":\"kill\"", "\"group\":\"batch\"");
    g_test_message("record: %s", rec ? rec : "(none)");
    if (!rec) {
        g_autofree char *log = NULL;
        g_file_get_contents(t.d.log, &log, NULL, NULL);
        g_test_message("memctld: %s", log);
    }
    g_assert_nonnull(rec);
    if (!strstr(rec, want_reason) && !(or_reason && strstr(rec, or_reason)))
        g_error("killed for another reason than %s%s%s: %s", want_reason, or_reason ? " or " : "",
                or_reason ? or_reason : "", rec);
    g_assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    g_assert_cmpuint(vmstat("oom_kill"), ==, oom_before);
    const char *e2s = strstr(rec, "\"event_to_signal_usec\":");
    g_assert_nonnull(e2s);
    uint64_t usec = g_ascii_strtoull(e2s + strlen("\"event_to_signal_usec\":"), NULL, 10);
    g_test_message("killed %.1f ms after the guard armed", usec / 1000.0);
    g_assert_cmpuint(usec, <=, bound_usec);
    host_stop(&t);
    zram_swap_off(z, dev);
}

/* The guard arms when swap-out starts, before the host thrashes, so the bound from arming is the
 * time swap takes to fill plus a margin (measured 2.5-5.4 s under TCG: docs/BENCHMARKS.md). */
static void test_thrash_kills(void)
{
    thrash(256, NULL, "\"reason\":\"host-", NULL, 6 * G_USEC_PER_SEC);
}

/* From arming: the growth into RAM and zram, then exhaustion (zram saves nothing) or a second of
 * windows (net) without progress; bounded by the stall budget (10 s). Before zram's figures counted,
 * only the progress verdict saw it: 4.4-5.8 s under TCG. */
static void test_thrash_zram_no_progress(void)
{
    thrash(1024, "{\"watermark_windows\": 0}", "\"reason\":\"host-exhausted\"",
           "\"reason\":\"host-no-progress\"", 10 * G_USEC_PER_SEC);
}

/* A dry run of the host guard: the same exhaustion, a verdict recorded against the hog (host true,
 * the group ranked first), nobody killed by memctld; the kernel's OOM killer then kills, and the
 * record's outcome says so. */
static void test_dry_run(void)
{
    /* nobody but the kernel kills here: its global OOM killer must take the hog, never this test
     * (6.12 took it once, after the hog). Children inherit -1000: the hog is given 1000 at once,
     * or nothing would be left to kill and the kernel would panic. So is a spare process of 1 MiB:
     * 6.12 once invoked its OOM killer again 7 ms after it had killed the hog, found only -1000
     * left ("System is deadlocked on memory") and panicked; a second kill takes the spare. */
    g_assert_cmpint(cgtest_write("/proc/self", "oom_score_adj", "-1000"), ==, 0);
    HostTest t;
    host_start_with(&t, "memctl-host-dry", NULL, "\"daemon\": {\"dry_run\": true}");
    g_autofree char *batch = g_build_filename(t.root, "batch", NULL);
    Hog spare;
    hog_start(&spare, (const char *[]){"--total", "1M", "--hold", "--oom-score-adj", "1000", NULL});
    g_assert_true(hog_wait_line(&spare, "grown", 30000));
    uint64_t oom_before = vmstat("oom_kill");
    Hog hog;
    hog_start(&hog, (const char *[]){"--cgroup", batch, "--step", "4M", NULL});
    int pid = (int)hog.pid;
    g_autofree char *hog_proc = g_strdup_printf("/proc/%d", pid);
    g_assert_cmpint(cgtest_write(hog_proc, "oom_score_adj", "1000"), ==, 0);
    int st = hog_wait(&hog, 120000);
    g_assert_true(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    g_assert_cmpuint(vmstat("oom_kill"), >, oom_before); /* the kernel killed it */
    g_autofree char *needle = g_strdup_printf("\"pid\":%d,", pid);
    g_autofree char *rec = daemontest_wait_record(&t.d, 10000, needle, "\"dry_run\":true");
    g_test_message("record: %s", rec ? rec : "(none)");
    g_assert_nonnull(rec);
    g_assert_nonnull(strstr(rec, "\"host\":true"));
    g_assert_nonnull(strstr(rec, "\"group\":\"batch\""));
    g_assert_nonnull(strstr(rec, "\"reason\":\"host-"));
    const char *seq = strstr(rec, "\"seq\":");
    g_assert_nonnull(seq);
    g_autofree char *seq_needle = g_strndup(seq, strcspn(seq, ",}") + 1); /* "seq":N} (the last key) */
    g_autofree char *out = daemontest_wait_record(&t.d, 15000, "\"type\":\"dry-run-outcome\"", seq_needle);
    g_test_message("outcome: %s", out ? out : "(none)");
    if (!out) { /* say what there was instead (seen once on 6.12, not reproduced in four runs after) */
        g_autofree char *kills = NULL, *log = NULL;
        g_file_get_contents(t.d.kill_log, &kills, NULL, NULL);
        g_file_get_contents(t.d.log, &log, NULL, NULL);
        g_error("no dry-run outcome for %s; kill log: %s; memctld: %s", seq_needle, kills, log);
    }
    g_assert_nonnull(strstr(out, "\"outcome\":\"kernel-killed\""));
    g_assert_nonnull(strstr(out, "\"host\":true"));
    /* no kill made by memctld: every kill line is a dry run's */
    g_assert_cmpuint(daemontest_count_records(&t.d, "\"type\":\"kill\""), ==,
                     daemontest_count_records(&t.d, "\"outcome\":\"pending\""));
    if (!hog_alive(&spare))
        g_test_message("the kernel killed the spare process too");
    (void)hog_kill(&spare);
    host_stop(&t);
    g_assert_cmpint(cgtest_write("/proc/self", "oom_score_adj", "0"), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    cgtest_require_cgroup2();
    g_test_add_func("/guard/psi-window", test_psi_window);
    g_test_add_func("/guard/exhaustion", test_exhaustion);
    g_test_add_func("/guard/swap-progress-no-kill", test_swap_progress_no_kill);
    g_test_add_func("/guard/thrash-kills", test_thrash_kills);
    g_test_add_func("/guard/thrash-zram-no-progress", test_thrash_zram_no_progress);
    g_test_add_func("/guard/dry-run", test_dry_run);
    return g_test_run();
}
