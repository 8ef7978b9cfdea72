/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The core's parsers on text the kernel writes, from files in a temporary directory (parsing only:
 * what the kernel decides is tested in the VM). */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "kernel/host-sample.h"
#include "kernel/sample.h"

#define STATUS_FMT                                                                              \
    "Name:\t%s\nUmask:\t0022\nState:\tD (disk sleep)\nTgid:\t4242\nPid:\t4242\n"                \
    "VmPeak:\t  200000 kB\nVmRSS:\t  150000 kB\nRssAnon:\t  102400 kB\nRssFile:\t    1024 kB\n" \
    "RssShmem:\t   46576 kB\nVmSwap:\t    2048 kB\nThreads:\t1\nSigQ:\t1/95000\n"               \
    "SigPnd:\t%s\nShdPnd:\t%s\nSigBlk:\t0000000000000000\n"

typedef struct {
    char *dir;
} Proc;

static void proc_write(Proc *p, const char *comm, const char *sigpnd, const char *shdpnd, const char *adj)
{
    g_autofree char *d = g_build_filename(p->dir, "4242", NULL);
    g_assert_cmpint(g_mkdir_with_parents(d, 0755), ==, 0);
    g_autofree char *status = g_strdup_printf(STATUS_FMT, comm, sigpnd, shdpnd);
    g_autofree char *sp = g_build_filename(d, "status", NULL);
    g_autofree char *ap = g_build_filename(d, "oom_score_adj", NULL);
    g_assert_true(g_file_set_contents(sp, status, -1, NULL));
    g_assert_true(g_file_set_contents(ap, adj, -1, NULL));
}

static void test_process(void)
{
    Proc p = {.dir = g_dir_make_tmp("memctl-proc-XXXXXX", NULL)};
    char scratch[4096];
    MemctlCandidate c;

    proc_write(&p, "hog", "0000000000000000", "0000000000000000", "-500\n");
    g_assert_cmpint(memctl_sample_process(p.dir, 4242, scratch, sizeof(scratch), &c), ==, 0);
    g_assert_cmpint(c.pid, ==, 4242);
    g_assert_cmpstr(c.comm, ==, "hog");
    g_assert_cmpint(c.oom_score_adj, ==, -500);
    g_assert_cmpuint(c.anon_bytes, ==, 102400ull * 1024);
    g_assert_cmpuint(c.swap_bytes, ==, 2048ull * 1024);
    g_assert_cmpuint(c.flags, ==, 0);

    /* SIGKILL (bit 8) pending in the shared or the thread's set: dying, never chosen again */
    proc_write(&p, "stuck", "0000000000000000", "0000000000000100", "1000\n");
    g_assert_cmpint(memctl_sample_process(p.dir, 4242, scratch, sizeof(scratch), &c), ==, 0);
    g_assert_cmpint(c.oom_score_adj, ==, 1000);
    g_assert_true(c.flags & MEMCTL_CAND_DYING);
    g_assert_false(memctl_victim_eligible(&c));
    proc_write(&p, "stuck", "0000000000004100", "0000000000000000", "0\n");
    g_assert_cmpint(memctl_sample_process(p.dir, 4242, scratch, sizeof(scratch), &c), ==, 0);
    g_assert_true(c.flags & MEMCTL_CAND_DYING);
    /* other pending signals (SIGTERM, bit 14; SIGSTOP, bit 18) are not a kill */
    proc_write(&p, "busy", "0000000000044000", "0000000000004000", "0\n");
    g_assert_cmpint(memctl_sample_process(p.dir, 4242, scratch, sizeof(scratch), &c), ==, 0);
    g_assert_false(c.flags & MEMCTL_CAND_DYING);

    /* A name is the process's to choose: it cannot pass for a field (hide its memory, look dying),
     * and the kernel's escapes of '\\' and newline are taken back to the raw name. */
    proc_write(&p, "RssAnon:\t0 kB", "0000000000000000", "0000000000000000", "0\n");
    g_assert_cmpint(memctl_sample_process(p.dir, 4242, scratch, sizeof(scratch), &c), ==, 0);
    g_assert_cmpuint(c.anon_bytes, ==, 102400ull * 1024);
    g_assert_cmpstr(c.comm, ==, "RssAnon:\t0 kB");
    proc_write(&p, "ShdPnd:\t0000000000000100", "0000000000000000", "0000000000000000", "0\n");
    g_assert_cmpint(memctl_sample_process(p.dir, 4242, scratch, sizeof(scratch), &c), ==, 0);
    g_assert_false(c.flags & MEMCTL_CAND_DYING);
    g_assert_cmpstr(c.comm, ==, "ShdPnd:\t0000000"); /* 15 bytes, as the kernel keeps them */
    proc_write(&p, "a\\\\b\\nc\xff", "0000000000000000", "0000000000000000", "0\n");
    g_assert_cmpint(memctl_sample_process(p.dir, 4242, scratch, sizeof(scratch), &c), ==, 0);
    g_assert_cmpstr(c.comm, ==, "a\\b\nc\xff");

    /* a process that is gone, and a scratch buffer too small to be useful */
    MemctlCandidate keep = {.pid = 7};
    g_assert_cmpint(memctl_sample_process(p.dir, 4343, scratch, sizeof(scratch), &keep), ==, -ESRCH);
    g_assert_cmpint(keep.pid, ==, 7);
    g_assert_cmpint(memctl_sample_process(p.dir, 4242, scratch, 16, &keep), ==, -EINVAL);
    g_assert_cmpint(keep.pid, ==, 7);

    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", p.dir);
    g_assert_cmpint(system(cmd), ==, 0);
    g_free(p.dir);
}

static void test_keys(void)
{
    const char *events = "low 0\nhigh 12\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n";
    uint64_t v = 99;
    g_assert_cmpint(memctl_sample_key(events, "max", &v), ==, 0);
    g_assert_cmpuint(v, ==, 3);
    g_assert_cmpint(memctl_sample_key(events, "oom_kill", &v), ==, 0);
    g_assert_cmpuint(v, ==, 1);
    g_assert_cmpint(memctl_sample_key(events, "oom", &v), ==, 0); /* not "oom_kill"'s prefix */
    g_assert_cmpuint(v, ==, 1);
    v = 99;
    g_assert_cmpint(memctl_sample_key(events, "kill", &v), ==, -ENOENT); /* not a suffix either */
    g_assert_cmpuint(v, ==, 99);
}

static void test_pressure(void)
{
    const char *text = "some avg10=1.50 avg60=0.20 avg300=0.00 total=123456\n"
                       "full avg10=12.34 avg60=0.10 avg300=0.00 total=7890\n";
    uint64_t some = 0, full = 0;
    uint32_t favg = 0, savg = 0;
    g_assert_cmpint(memctl_sample_pressure(text, &some, &full, &favg), ==, 0);
    g_assert_cmpuint(some, ==, 123456);
    g_assert_cmpuint(full, ==, 7890);
    g_assert_cmpuint(favg, ==, 1234);
    g_assert_cmpint(memctl_sample_pressure_avg10(text, &savg, &favg), ==, 0);
    g_assert_cmpuint(savg, ==, 150);
    g_assert_cmpuint(favg, ==, 1234);
}

static void test_pids(void)
{
    int32_t pids[3];
    g_assert_cmpuint(memctl_sample_pids("12\n345\n6789\n42\n", pids, 3), ==, 3);
    g_assert_cmpint(pids[0], ==, 12);
    g_assert_cmpint(pids[2], ==, 6789);
    g_assert_cmpuint(memctl_sample_pids("", pids, 3), ==, 0);
}

static void test_host_vmstat(void)
{
    /* 6.1's order, trimmed; "pswpin" must not match "pswpout", nor the refault keys each other. */
    const char *text = "nr_free_pages 1000\nworkingset_refault_anon 30\nworkingset_refault_file 70\n"
                       "pswpin 500\npswpout 900\npgsteal_kswapd 10\npgsteal_direct 5\n"
                       "pgsteal_khugepaged 1\npgsteal_anon 16\npgscan_kswapd 40\npgscan_direct 20\n"
                       "pgscan_khugepaged 2\npgscan_file 62\noom_kill 3\n";
    MemctlHostSample s = {0};
    g_assert_cmpint(memctl_host_sample_vmstat(text, &s), ==, 0);
    g_assert_cmpuint(s.pgsteal, ==, 16);
    g_assert_cmpuint(s.pgscan, ==, 62);
    g_assert_cmpuint(s.refault, ==, 100);
    g_assert_cmpuint(s.refault_anon, ==, 30);
    g_assert_cmpuint(s.swapin, ==, 500);
    g_assert_cmpuint(s.oom_kill, ==, 3);
    /* before 5.9: one refault counter, no anon share */
    s = (MemctlHostSample){0};
    g_assert_cmpint(memctl_host_sample_vmstat("workingset_refault 42\npgsteal_direct 3\n", &s), ==, 0);
    g_assert_cmpuint(s.refault, ==, 42);
    g_assert_cmpuint(s.refault_anon, ==, 0);
    g_assert_cmpuint(s.oom_kill, ==, 0); /* before 4.13 */
    g_assert_cmpint(memctl_host_sample_vmstat("nr_free_pages 1\n", &s), ==, -EINVAL);
}

static void test_host_zram(void)
{
    const char *swaps = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
                        "/dev/zram0                              partition\t1048572\t\t0\t\t100\n"
                        "/swapfile                               file\t\t524284\t\t0\t\t-2\n"
                        "/dev/zram12\tpartition\t1\t0\t5\n"
                        "/dev/zramx\tpartition\t1\t0\t5\n";
    uint32_t nums[4] = {0}, count = 0;
    g_assert_cmpuint(memctl_host_sample_zram_devices(swaps, nums, 4, &count), ==, 2);
    g_assert_cmpuint(nums[0], ==, 0);
    g_assert_cmpuint(nums[1], ==, 12);
    g_assert_cmpuint(count, ==, 4); /* every swap device, zram or not */
    g_assert_cmpuint(memctl_host_sample_zram_devices(swaps, nums, 1, &count), ==, 1);
    g_assert_cmpuint(count, ==, 4);
    g_assert_cmpuint(memctl_host_sample_zram_devices("Filename Type\n", nums, 4, &count), ==, 0);
    g_assert_cmpuint(count, ==, 0);

    uint64_t orig = 7, used = 7;
    g_assert_cmpint(
            memctl_host_sample_zram(
                    "  4096000   204800   245760        0   245760      100        0        0        0\n",
                    &orig, &used),
            ==, 0);
    g_assert_cmpuint(orig, ==, 4096000);
    g_assert_cmpuint(used, ==, 245760);
    orig = used = 7;
    g_assert_cmpint(memctl_host_sample_zram("12 34\n", &orig, &used), ==, -EINVAL);
    g_assert_cmpuint(used, ==, 7);
    g_assert_cmpuint(orig, ==, 7);
}

/* memory.stat's reclaim counters: all six or -ENOENT, the swap and host fields zeroed. */
static void test_reclaim_stat(void)
{
    const char *text = "anon 1000\nfile 9000\ninactive_anon 100\nactive_anon 200\ninactive_file 3000\n"
                       "active_file 4000\nfile_mapped 500\nslab_reclaimable 60\nslab 90\n";
    MemctlReclaimInput in = {.swap_max = 7, .host_swap_free = 7};
    g_assert_cmpint(memctl_sample_reclaim_stat(text, &in), ==, 0);
    g_assert_cmpuint(in.inactive_file, ==, 3000);
    g_assert_cmpuint(in.active_file, ==, 4000);
    g_assert_cmpuint(in.file_mapped, ==, 500);
    g_assert_cmpuint(in.inactive_anon, ==, 100);
    g_assert_cmpuint(in.active_anon, ==, 200);
    g_assert_cmpuint(in.slab_reclaimable, ==, 60);
    g_assert_cmpuint(in.swap_max, ==, 0);
    g_assert_cmpuint(in.host_swap_free, ==, 0);
    MemctlReclaimInput untouched = {.active_anon = 42};
    g_assert_cmpint(memctl_sample_reclaim_stat("anon 1\ninactive_file 2\n", &untouched), ==, -ENOENT);
    g_assert_cmpuint(untouched.active_anon, ==, 42);
}

/* Refaults: anon plus file since 5.9, the one counter before; neither is -ENOENT, untouched. */
static void test_refaults(void)
{
    uint64_t v = 7;
    g_assert_cmpint(memctl_sample_refaults("workingset_refault_anon 3\nworkingset_refault_file 1000\n", &v),
                    ==, 0);
    g_assert_cmpuint(v, ==, 1003);
    g_assert_cmpint(memctl_sample_refaults("anon 5\nworkingset_refault 42\n", &v), ==, 0);
    g_assert_cmpuint(v, ==, 42);
    v = 7;
    g_assert_cmpint(memctl_sample_refaults("anon 5\nworkingset_activate_file 9\n", &v), ==, -ENOENT);
    g_assert_cmpint(memctl_sample_refaults("workingset_refault_anon x\n", &v), <, 0);
    g_assert_cmpuint(v, ==, 7);
}

/* What a group uses: memory.current less what is charged ahead of use */
static void test_used(void)
{
    const char *stat = "anon 1000\nfile 200\nkernel 30\nkernel_stack 4\nsock 5\nshmem 100\n"
                       "file_mapped 50\nanon_thp 0\n";
    uint64_t v = 7;
    g_assert_cmpint(memctl_sample_used(stat, &v), ==, 0);
    g_assert_cmpuint(v, ==, 1235); /* shmem is in file, kernel_stack in kernel: counted once */
    g_autofree char *z = g_strconcat(stat, "zswap 64\nzswapped 256\n", NULL);
    g_assert_cmpint(memctl_sample_used(z, &v), ==, 0);
    g_assert_cmpuint(v, ==, 1299);
    v = 7; /* before Linux 5.18: no "kernel", not known */
    g_assert_cmpint(memctl_sample_used("anon 1000\nfile 200\nsock 5\n", &v), ==, -ENOENT);
    g_assert_cmpuint(v, ==, 7);
    g_assert_cmpint(memctl_sample_used("anon 18446744073709551615\nfile 1\nkernel 0\nsock 0\n", &v), ==, 0);
    g_assert_cmpuint(v, ==, UINT64_MAX); /* saturates */
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sample/process", test_process);
    g_test_add_func("/sample/keys", test_keys);
    g_test_add_func("/sample/pressure", test_pressure);
    g_test_add_func("/sample/pids", test_pids);
    g_test_add_func("/sample/host-vmstat", test_host_vmstat);
    g_test_add_func("/sample/host-zram", test_host_zram);
    g_test_add_func("/sample/reclaim-stat", test_reclaim_stat);
    g_test_add_func("/sample/refaults", test_refaults);
    g_test_add_func("/sample/used", test_used);
    return g_test_run();
}
