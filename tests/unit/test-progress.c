/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>

#include "policy/progress.h"

#define MiB (1024ull * 1024)
#define MS 1000ull

typedef struct {
    MemctlProgressConfig cfg;
    MemctlProgressState st;
    MemctlProgressSample s;
} Fixture;

static void fixture_init(Fixture *f)
{
    memctl_progress_config_default(&f->cfg);
    f->st = (MemctlProgressState){0};
    f->s = (MemctlProgressSample){.t_usec = 1000 * MS, .current = 130 * MiB, .high = 120 * MiB};
}

/* Advances the sample by one window with the given changes and returns the verdict. */
static MemctlVerdict step(Fixture *f, int64_t dcurrent_mib, uint64_t steal_pages, uint64_t dswap_mib,
                          uint64_t stall_ms)
{
    MemctlProgressSample prev = f->s;
    f->s.t_usec += f->cfg.window_usec;
    f->s.current = (uint64_t)((int64_t)f->s.current + dcurrent_mib * (int64_t)MiB);
    f->s.pgsteal += steal_pages;
    f->s.pgscan += steal_pages * 2;
    f->s.swap_current += dswap_mib * MiB;
    f->s.full_total_usec += stall_ms * MS;
    return memctl_progress_decide(&prev, &f->s, &f->cfg, 4096, &f->st, NULL);
}

static void test_defaults(void)
{
    MemctlProgressConfig c;
    memctl_progress_config_default(&c);
    g_assert_cmpuint(c.window_usec, ==, 50 * MS);
    g_assert_cmpuint(c.stuck_windows, ==, 2);
    g_assert_cmpuint(c.progress_floor, ==, 1 * MiB);
    g_assert_cmpuint(c.stall_budget_pct, ==, 60);
    g_assert_cmpuint(c.stall_windows, ==, 20);
    g_assert_true(c.hover_band);
}

/* A group over high by no more than the floor, with nothing to show for it, is at its threshold:
 * never stuck, however long it stays. One byte further over, two such windows kill. The host's
 * config (no band) counts them as before. */
static void test_hover_band(void)
{
    Fixture f;
    fixture_init(&f);
    f.s.current = f.s.high + f.cfg.progress_floor;
    for (int i = 0; i < 100; i++)
        g_assert_cmpint(step(&f, 0, 0, 0, 0), ==, MEMCTL_VERDICT_WAIT);
    g_assert_cmpuint(f.st.stuck, ==, 0);
    f.s.current += 1;
    g_assert_cmpint(step(&f, 0, 0, 0, 0), ==, MEMCTL_VERDICT_WAIT);
    g_assert_cmpint(step(&f, 0, 0, 0, 0), ==, MEMCTL_VERDICT_NO_PROGRESS);

    fixture_init(&f); /* a window in the band ends a run without progress, as a calm one would */
    g_assert_cmpint(step(&f, 0, 0, 0, 0), ==, MEMCTL_VERDICT_WAIT);
    g_assert_cmpuint(f.st.stuck, ==, 1);
    f.s.current = f.s.high + 512 * 1024;
    MemctlProgressSample prev = f.s;
    f.s.t_usec += f.cfg.window_usec;
    g_assert_cmpint(memctl_progress_decide(&prev, &f.s, &f.cfg, 4096, &f.st, NULL), ==, MEMCTL_VERDICT_WAIT);
    g_assert_cmpuint(f.st.stuck, ==, 0);

    /* the band is of what the group uses: memory.current 3 MiB over high, 2 MiB of it charged ahead
     * of use, is in it */
    fixture_init(&f);
    f.s.current = f.s.high + 3 * MiB;
    f.s.ahead = 2 * MiB;
    g_assert_cmpuint(memctl_progress_usage(&f.s), ==, f.s.high + MiB);
    for (int i = 0; i < 10; i++)
        g_assert_cmpint(step(&f, 0, 0, 0, 0), ==, MEMCTL_VERDICT_WAIT);
    f.s.ahead -= 4096;
    g_assert_cmpint(step(&f, 0, 0, 0, 0), ==, MEMCTL_VERDICT_WAIT);
    g_assert_cmpint(step(&f, 0, 0, 0, 0), ==, MEMCTL_VERDICT_NO_PROGRESS);
    f.s.ahead = UINT64_MAX; /* more ahead than charged: uses nothing, never over */
    g_assert_cmpuint(memctl_progress_usage(&f.s), ==, 0);

    fixture_init(&f);
    f.cfg.hover_band = false;
    f.s.current = f.s.high + 1;
    g_assert_cmpint(step(&f, 0, 0, 0, 0), ==, MEMCTL_VERDICT_WAIT);
    g_assert_cmpint(step(&f, 0, 0, 0, 0), ==, MEMCTL_VERDICT_NO_PROGRESS);
}

static void test_calm_below_high(void)
{
    Fixture f;
    fixture_init(&f);
    f.s.current = 100 * MiB;
    g_assert_cmpint(step(&f, 0, 0, 0, 50), ==, MEMCTL_VERDICT_CALM);
    f.st.stuck = 5;
    g_assert_cmpint(step(&f, 0, 0, 0, 0), ==, MEMCTL_VERDICT_CALM);
    g_assert_cmpuint(f.st.stuck, ==, 0); /* going calm resets the count */
}

/* WHY.md §2: an anon hog without swap, throttled at high: nothing can be reclaimed: kill */
static void test_no_progress_kills(void)
{
    Fixture f;
    fixture_init(&f);
    g_assert_cmpint(step(&f, 1, 0, 0, 40), ==, MEMCTL_VERDICT_WAIT);
    MemctlVerdict v = step(&f, 0, 0, 0, 45);
    g_assert_cmpint(v, ==, MEMCTL_VERDICT_NO_PROGRESS);
    g_assert_true(memctl_verdict_is_kill(v));
    g_assert_cmpstr(memctl_verdict_name(v), ==, "no-progress");
}

/* WHY.md §5: reclaim or swap-out keeping pace is progress: never a kill, however long it lasts */
static void test_progress_never_kills(void)
{
    Fixture f;
    fixture_init(&f);
    for (int i = 0; i < 1000; i++) {
        MemctlVerdict v = (i % 2) ? step(&f, 1, 512, 0, 10) /* 2 MiB reclaimed */
                                  : step(&f, 1, 0, 2, 10);  /* 2 MiB swapped out */
        g_assert_cmpint(v, ==, MEMCTL_VERDICT_PROGRESS);
    }
    /* a falling usage is progress too (a process exits, or the victim is being reaped) */
    g_assert_cmpint(step(&f, -1, 0, 0, 0), ==, MEMCTL_VERDICT_PROGRESS);
}

/* a trickle below the floor does not count: 64 pages = 256 KiB per 50 ms */
static void test_trickle_is_no_progress(void)
{
    Fixture f;
    fixture_init(&f);
    g_assert_cmpint(step(&f, 0, 64, 0, 0), ==, MEMCTL_VERDICT_WAIT);
    g_assert_cmpint(step(&f, 0, 64, 0, 0), ==, MEMCTL_VERDICT_NO_PROGRESS);
}

/* one window of progress resets the stuck count */
static void test_progress_resets(void)
{
    Fixture f;
    fixture_init(&f);
    g_assert_cmpint(step(&f, 0, 0, 0, 0), ==, MEMCTL_VERDICT_WAIT);
    g_assert_cmpint(step(&f, 0, 1024, 0, 0), ==, MEMCTL_VERDICT_PROGRESS);
    g_assert_cmpint(step(&f, 0, 0, 0, 0), ==, MEMCTL_VERDICT_WAIT);
    g_assert_cmpint(step(&f, 0, 0, 0, 0), ==, MEMCTL_VERDICT_NO_PROGRESS);
}

/* thrashing: reclaim "progresses" but the group stalls over budget for a second: kill (no livelock) */
static void test_stall_kills(void)
{
    Fixture f;
    fixture_init(&f);
    for (uint32_t i = 1; i < f.cfg.stall_windows; i++)
        g_assert_cmpint(step(&f, 0, 1024, 0, 40), ==, MEMCTL_VERDICT_PROGRESS); /* 80 % stalled */
    g_assert_cmpint(step(&f, 0, 1024, 0, 40), ==, MEMCTL_VERDICT_STALL);
    /* under budget (50 %) never counts */
    fixture_init(&f);
    for (int i = 0; i < 100; i++)
        g_assert_cmpint(step(&f, 0, 1024, 0, 25), ==, MEMCTL_VERDICT_PROGRESS);
}

static void test_late_sample_scaling_and_figures(void)
{
    Fixture f;
    fixture_init(&f);
    MemctlProgressSample prev = f.s, cur = f.s;
    cur.t_usec += 25 * MS; /* half a window: half the floor (512 KiB) suffices */
    cur.pgsteal += 160;    /* 640 KiB */
    cur.full_total_usec += 30 * MS;
    MemctlProgressFigures fig;
    g_assert_cmpint(memctl_progress_decide(&prev, &cur, &f.cfg, 4096, &f.st, &fig), ==,
                    MEMCTL_VERDICT_PROGRESS);
    g_assert_cmpuint(fig.dt_usec, ==, 25 * MS);
    g_assert_cmpuint(fig.reclaimed_bytes, ==, 160 * 4096);
    g_assert_cmpuint(fig.stall_pct, ==, 100); /* stall > dt is clamped */
    /* same timestamp: no verdict beyond waiting, nothing counted */
    g_assert_cmpint(memctl_progress_decide(&cur, &cur, &f.cfg, 4096, &f.st, NULL), ==, MEMCTL_VERDICT_WAIT);
    g_assert_cmpuint(f.st.stuck, ==, 0);
    /* counters that went backwards (a recreated cgroup) are read as no change, not as huge */
    prev = cur;
    cur.t_usec += 50 * MS;
    cur.pgsteal = 0;
    g_assert_cmpint(memctl_progress_decide(&prev, &cur, &f.cfg, 4096, &f.st, &fig), ==, MEMCTL_VERDICT_WAIT);
    g_assert_cmpuint(fig.reclaimed_bytes, ==, 0);
}

/* Thrashing: reclaim scans and steals, but as much comes straight back as refaults. */
static void test_refaults_cancel_reclaim(void)
{
    Fixture f;
    fixture_init(&f);
    uint64_t pages = 4 * MiB / 4096;
    f.s.refault += pages;
    MemctlProgressSample prev = f.s;
    f.s.t_usec += f.cfg.window_usec;
    f.s.pgsteal += pages;
    f.s.refault += pages;
    MemctlProgressFigures fig;
    g_assert_cmpint(memctl_progress_decide(&prev, &f.s, &f.cfg, 4096, &f.st, &fig), ==, MEMCTL_VERDICT_WAIT);
    g_assert_cmpuint(fig.reclaimed_bytes, ==, 4 * MiB);
    g_assert_cmpuint(fig.refaulted_bytes, ==, 4 * MiB);
    prev = f.s;
    f.s.t_usec += f.cfg.window_usec;
    f.s.pgsteal += pages;
    f.s.refault += pages / 2; /* half of it stays reclaimed: 2 MiB net, above the floor */
    g_assert_cmpint(memctl_progress_decide(&prev, &f.s, &f.cfg, 4096, &f.st, &fig), ==,
                    MEMCTL_VERDICT_PROGRESS);
    prev = f.s;
    f.s.t_usec += f.cfg.window_usec;
    f.s.pgsteal += pages;
    f.s.refault += pages;
    g_assert_cmpint(memctl_progress_decide(&prev, &f.s, &f.cfg, 4096, &f.st, &fig), ==, MEMCTL_VERDICT_WAIT);
    prev = f.s;
    f.s.t_usec += f.cfg.window_usec;
    f.s.pgsteal += pages;
    f.s.refault += pages + 10; /* more refaults than reclaim: still no progress, never negative */
    g_assert_cmpint(memctl_progress_decide(&prev, &f.s, &f.cfg, 4096, &f.st, &fig), ==,
                    MEMCTL_VERDICT_NO_PROGRESS);
}

/* A short dip under the stall budget does not restart the count: it takes one window back. */
static void test_stall_dip_leaks(void)
{
    Fixture f;
    fixture_init(&f);
    for (int i = 0; i < 15; i++)
        g_assert_cmpint(step(&f, 0, 512, 0, 40), ==, MEMCTL_VERDICT_PROGRESS); /* 80% stall, progress */
    g_assert_cmpint(step(&f, 0, 512, 0, 0), ==, MEMCTL_VERDICT_PROGRESS);      /* a calm window: 14 */
    g_assert_cmpuint(f.st.stalled, ==, 14);
    for (int i = 0; i < 5; i++)
        g_assert_cmpint(step(&f, 0, 512, 0, 40), ==, MEMCTL_VERDICT_PROGRESS);
    g_assert_cmpint(step(&f, 0, 512, 0, 40), ==, MEMCTL_VERDICT_STALL); /* 20 */
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/progress/defaults", test_defaults);
    g_test_add_func("/progress/hover-band", test_hover_band);
    g_test_add_func("/progress/calm", test_calm_below_high);
    g_test_add_func("/progress/no-progress-kills", test_no_progress_kills);
    g_test_add_func("/progress/progress-never-kills", test_progress_never_kills);
    g_test_add_func("/progress/trickle", test_trickle_is_no_progress);
    g_test_add_func("/progress/resets", test_progress_resets);
    g_test_add_func("/progress/stall-kills", test_stall_kills);
    g_test_add_func("/progress/late-sample", test_late_sample_scaling_and_figures);
    g_test_add_func("/progress/refaults", test_refaults_cancel_reclaim);
    g_test_add_func("/progress/stall-dip", test_stall_dip_leaks);
    return g_test_run();
}
