/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>

#include "policy/host.h"

#define MiB (1024ull * 1024)
#define MS 1000ull
#define PAGE 4096ull

/* A 1 GiB host with a DMA zone that never matters and one Normal zone (pages). */
typedef struct {
    MemctlHostConfig cfg;
    MemctlProgressConfig pcfg;
    MemctlHostState st;
    MemctlHostSample s;
    MemctlHostFigures fig;
    bool idle;             /* nobody waits for memory: PSI "some" does not grow */
    uint64_t swapin_pages; /* read back from swap in each window */
    uint64_t zram_bytes;   /* zram's RAM growth in each window */
    uint64_t zram_stored;  /* what zram is given in each window (orig_data_size's growth) */
    bool anon_refaults;    /* step()'s refaults are anon ones (the default: file) */
} Fixture;

static void fixture_init(Fixture *f)
{
    memctl_host_config_default(&f->cfg);
    memctl_progress_config_default(&f->pcfg);
    f->st = (MemctlHostState){.stall_seen = true}; /* armed by PSI, as the tests below assume */
    f->idle = false;
    f->swapin_pages = 0;
    f->zram_bytes = 0;
    f->zram_stored = 0;
    f->anon_refaults = false;
    f->s = (MemctlHostSample){
            .t_usec = 1000 * MS,
            .total = 1024 * MiB,
            .available = 500 * MiB,
            .n_zones = 3,
            .zones = {{.free = 3000, .min = 60, .low = 75, .high = 90, .managed = 3900},
                      {.free = 100000, .min = 1000, .low = 1250, .high = 1500, .managed = 200000},
                      {.free = 0, .min = 0, .low = 0, .high = 0, .managed = 0}},
    };
}

/* One window later: available and the Normal zone's free change, and the counters advance. */
static MemctlHostVerdict step(Fixture *f, int64_t davail_mib, int64_t dfree_pages, uint64_t steal_pages,
                              uint64_t refault_pages, uint64_t dswap_mib, uint64_t stall_ms)
{
    MemctlHostSample prev = f->s;
    f->s.t_usec += f->pcfg.window_usec;
    f->s.available = (uint64_t)((int64_t)f->s.available + davail_mib * (int64_t)MiB);
    f->s.zones[1].free = (uint64_t)((int64_t)f->s.zones[1].free + dfree_pages);
    f->s.pgsteal += steal_pages;
    f->s.pgscan += steal_pages * 2;
    f->s.refault += refault_pages;
    f->s.refault_anon += f->anon_refaults ? refault_pages : 0;
    f->s.swapin += f->swapin_pages;
    f->s.zram_used += f->zram_bytes;
    f->s.zram_orig += f->zram_stored;
    f->s.swap_free -= dswap_mib * MiB;
    f->s.full_total_usec += stall_ms * MS;
    f->s.some_total_usec += f->idle ? 0 : stall_ms * MS + 1000;
    return memctl_host_decide(&prev, &f->s, &f->cfg, &f->pcfg, PAGE, &f->st, &f->fig);
}

static void test_defaults(void)
{
    MemctlHostConfig c;
    memctl_host_config_default(&c);
    g_assert_true(c.enabled);
    g_assert_cmpuint(c.available_min_pct, ==, 5);
    g_assert_cmpuint(c.watermark_windows, ==, 2);
    g_assert_cmpuint(memctl_host_available_min(&c, 1000 * MiB), ==, 50 * MiB);
    c.available_min = 64 * MiB;
    g_assert_cmpuint(memctl_host_available_min(&c, 1000 * MiB), ==, 64 * MiB);
}

static void test_calm(void)
{
    Fixture f;
    fixture_init(&f);
    g_assert_cmpint(step(&f, -10, -1000, 0, 0, 0, 0), ==, MEMCTL_HOST_CALM);
    g_assert_cmpuint(f.fig.zone, ==, 0); /* DMA: 2940 pages above min, Normal 98000 */
}

/* WHY.md §4: free substantially under min (3/4 of it), not recovering, for two windows: kill even
 * though reclaim progresses. Just under min is not enough. */
static void test_watermark_breach(void)
{
    Fixture f;
    fixture_init(&f);
    f.s.zones[1].free = 1000;
    f.s.available = 400 * MiB;
    g_assert_cmpint(step(&f, 0, -100, 10000, 0, 0, 0), ==, MEMCTL_HOST_WATCH); /* 900: under min 1000 */
    g_assert_cmpuint(f.st.breach, ==, 0);
    g_assert_cmpint(step(&f, 0, -200, 10000, 0, 0, 0), ==, MEMCTL_HOST_WATCH); /* 700 < 750 */
    g_assert_cmpuint(f.fig.zone, ==, 1);
    g_assert_cmpuint(f.fig.zone_free, ==, 700);
    g_assert_cmpuint(f.fig.zone_min, ==, 1000);
    g_assert_cmpint(f.fig.zone_delta, ==, -200);
    g_assert_cmpuint(f.st.breach, ==, 1);
    g_assert_cmpint(step(&f, 0, 0, 10000, 0, 0, 0), ==, MEMCTL_HOST_WATERMARK);
}

static void test_watermark_recovering(void)
{
    Fixture f;
    fixture_init(&f);
    f.s.zones[1].free = 800;
    g_assert_cmpint(step(&f, 0, -100, 0, 0, 0, 0), ==, MEMCTL_HOST_WATCH); /* 700 */
    /* under it, but reclaim brings it back: no breach, the count starts again */
    g_assert_cmpint(step(&f, 0, 20, 0, 0, 0, 0), ==, MEMCTL_HOST_WATCH);
    g_assert_cmpuint(f.st.breach, ==, 0);
    g_assert_cmpint(step(&f, 0, -10, 0, 0, 0, 0), ==, MEMCTL_HOST_WATCH);
    g_assert_cmpint(step(&f, 0, 0, 0, 0, 0, 0), ==, MEMCTL_HOST_WATERMARK);
}

/* Falling so fast that the next window ends under 3/4 of min counts as a breach. */
static void test_watermark_projection(void)
{
    Fixture f;
    fixture_init(&f);
    f.s.zones[1].free = 1240;                                              /* below low (1250) */
    g_assert_cmpint(step(&f, 0, -100, 0, 0, 0, 0), ==, MEMCTL_HOST_WATCH); /* 1140 - 100 > 750 */
    g_assert_cmpuint(f.st.breach, ==, 0);
    g_assert_cmpint(step(&f, 0, -300, 0, 0, 0, 0), ==, MEMCTL_HOST_WATCH); /* 840 - 300 < 750 */
    g_assert_cmpuint(f.st.breach, ==, 1);
    f.cfg.watermark_windows = 0; /* the rule can be switched off */
    g_assert_cmpint(step(&f, 0, -200, 0, 0, 0, 0), ==, MEMCTL_HOST_WATCH);
}

/* WHY.md §5: short of memory but swapping out steadily: never a kill. */
static void test_swap_progress_no_kill(void)
{
    Fixture f;
    fixture_init(&f);
    f.s.swap_total = f.s.swap_free = 512 * MiB;
    f.s.available = 30 * MiB; /* below 5% of 1 GiB */
    for (int i = 0; i < 200; i++)
        g_assert_cmpint(step(&f, 0, 0, 0, 0, 2, 10), ==, MEMCTL_HOST_WATCH);
    g_assert_cmpuint(f.fig.progress.swapped_bytes, ==, 2 * MiB);
}

static void test_no_progress_kills(void)
{
    Fixture f;
    fixture_init(&f);
    f.s.available = 30 * MiB;
    g_assert_cmpint(step(&f, 0, 0, 0, 0, 0, 0), ==, MEMCTL_HOST_WATCH);
    g_assert_cmpint(step(&f, 0, 0, 0, 0, 0, 0), ==, MEMCTL_HOST_NO_PROGRESS);
}

/* A host short of memory (30 MiB available) with free swap, stepped in its own 50 ms windows: free
 * swap stretches the windows without progress to the stall budget's (20). */
static void fixture_short_with_swap(Fixture *f, uint64_t swap_mib)
{
    fixture_init(f);
    f->cfg.window_usec = f->pcfg.window_usec;
    f->s.available = 30 * MiB;
    f->s.swap_total = f->s.swap_free = swap_mib * MiB;
}

/* Thrashing: reclaim steals as much as comes back as refaults. */
static void test_thrashing_kills(void)
{
    Fixture f;
    fixture_init(&f);
    f.s.available = 30 * MiB;
    uint64_t p = 8 * MiB / PAGE;
    g_assert_cmpint(step(&f, 0, 0, p, p, 0, 20), ==, MEMCTL_HOST_WATCH);
    g_assert_cmpint(step(&f, 0, 0, p, p, 0, 20), ==, MEMCTL_HOST_NO_PROGRESS);
    g_assert_cmpuint(f.fig.progress.refaulted_bytes, ==, 8 * MiB);
}

/* Thrashing to zram with pages the kernel no longer has a shadow entry for: reclaim steals 8 MiB a
 * window and only 1 MiB shows as anon refaults, but 8 MiB is read back from swap. Swap-ins count as
 * what came back, so this is no progress, decided on the windows free swap gives (20 x 50 ms). */
static void test_swapins_are_not_progress(void)
{
    Fixture f;
    fixture_short_with_swap(&f, 512);
    uint64_t p = 8 * MiB / PAGE;
    f.swapin_pages = p;
    f.anon_refaults = true;
    for (uint32_t i = 1; i < f.pcfg.stall_windows; i++)
        g_assert_cmpint(step(&f, 0, 0, p, p / 8, 0, 20), ==, MEMCTL_HOST_WATCH);
    g_assert_cmpint(step(&f, 0, 0, p, p / 8, 0, 20), ==, MEMCTL_HOST_NO_PROGRESS);
    g_assert_cmpuint(f.fig.progress.refaulted_bytes, ==, 8 * MiB);

    /* Only 1 MiB read back from swap (all of it anon refaults): 7 MiB net reclaim, progress. */
    fixture_short_with_swap(&f, 512);
    f.swapin_pages = p / 8;
    f.anon_refaults = true;
    for (uint32_t i = 0; i < 2 * f.pcfg.stall_windows; i++)
        g_assert_cmpint(step(&f, 0, 0, p, p / 8, 0, 20), ==, MEMCTL_HOST_WATCH);
    g_assert_cmpuint(f.fig.progress.refaulted_bytes, ==, 1 * MiB);
}

/* Swapping out to zram pages that do not compress: 8 MiB a window leaves, and zram holds 8 MiB more
 * of RAM for them. Neither reclaim nor swap-out freed anything: no progress. Pages that compress
 * to an eighth free 7 MiB a window: progress. */
static void test_zram_is_paid_in_ram(void)
{
    Fixture f;
    fixture_short_with_swap(&f, 1024);
    uint64_t p = 8 * MiB / PAGE;
    f.zram_bytes = 8 * MiB;
    for (uint32_t i = 1; i < f.pcfg.stall_windows; i++)
        g_assert_cmpint(step(&f, 0, 0, p, 0, 8, 20), ==, MEMCTL_HOST_WATCH);
    g_assert_cmpint(step(&f, 0, 0, p, 0, 8, 20), ==, MEMCTL_HOST_NO_PROGRESS);
    g_assert_cmpuint(f.fig.progress.swapped_bytes, ==, 0);

    fixture_short_with_swap(&f, 1024);
    f.zram_bytes = 1 * MiB;
    for (uint32_t i = 0; i < 2 * f.pcfg.stall_windows; i++)
        g_assert_cmpint(step(&f, 0, 0, p, 0, 8, 20), ==, MEMCTL_HOST_WATCH);
    g_assert_cmpuint(f.fig.progress.swapped_bytes, ==, 7 * MiB);
    g_assert_cmpuint(f.fig.progress.refaulted_bytes, ==, 1 * MiB);
}

/* The host counts windows without progress net of those with it: two stuck windows and one with a
 * burst of reclaim, over and over, is a workload that gets nowhere (in a row it never would be). */
static void test_stuck_is_leaky(void)
{
    Fixture f;
    fixture_short_with_swap(&f, 1024);
    uint64_t burst = 4 * MiB / PAGE;
    MemctlHostVerdict v = MEMCTL_HOST_WATCH;
    uint32_t n = 0;
    while (v == MEMCTL_HOST_WATCH && n < 10 * f.pcfg.stall_windows) {
        v = step(&f, 0, 0, n % 3 == 2 ? burst : 0, 0, 0, 20);
        n++;
    }
    g_assert_cmpint(v, ==, MEMCTL_HOST_NO_PROGRESS);
    g_assert_cmpuint(n, >, 2 * f.pcfg.stall_windows); /* about three windows per net one */
    g_assert_cmpuint(n, <=, 3 * f.pcfg.stall_windows + 3);
}

/* Progress, but the host stalls over the budget (80%) window after window: WHY.md §5's slow swap is
 * progress, so the group's second of stall is not enough; the host's stall time (10 s) is. */
static void test_stall_kills(void)
{
    Fixture f;
    fixture_init(&f);
    f.cfg.window_usec = f.pcfg.window_usec; /* step() advances one window of the fixture's 50 ms */
    g_assert_cmpuint(f.cfg.stall_usec, ==, 10 * 1000 * MS);
    uint32_t n = memctl_host_stall_windows(&f.cfg);
    g_assert_cmpuint(n, ==, 200);
    f.s.swap_total = f.s.swap_free = 512 * MiB;
    f.s.available = 30 * MiB;
    for (uint32_t i = 0; i < n - 1; i++)
        g_assert_cmpint(step(&f, 0, 0, 0, 0, 2, 40), ==, MEMCTL_HOST_WATCH);
    g_assert_cmpuint(f.st.progress.stalled, ==, n - 1);
    g_assert_cmpint(step(&f, 0, 0, 0, 0, 2, 40), ==, MEMCTL_HOST_STALL);
}

/* The stall count is leaky: windows under the budget pay back windows over it, so a host that
 * stalls over the budget only half the time never gets there. */
static void test_stall_leaks(void)
{
    Fixture f;
    fixture_init(&f);
    f.cfg.window_usec = f.pcfg.window_usec;
    f.s.swap_total = f.s.swap_free = 1024 * MiB;
    f.s.available = 30 * MiB;
    for (int i = 0; i < 1000; i++)
        g_assert_cmpint(step(&f, 0, 0, 0, 0, 1, i % 2 ? 40 : 10), ==, MEMCTL_HOST_WATCH);
    g_assert_cmpuint(f.st.progress.stalled, <=, 1);
}

/* host.stall_seconds 0: a host that makes progress is never killed for stalling. */
static void test_stall_off(void)
{
    Fixture f;
    fixture_init(&f);
    f.cfg.stall_usec = 0;
    g_assert_cmpuint(memctl_host_stall_windows(&f.cfg), ==, 0);
    f.s.swap_total = f.s.swap_free = 4096 * MiB;
    f.s.available = 30 * MiB;
    for (int i = 0; i < 2000; i++)
        g_assert_cmpint(step(&f, 0, 0, 0, 0, 2, 50), ==, MEMCTL_HOST_WATCH);
    g_assert_cmpint(step(&f, 0, 0, 0, 0, 0, 50), ==, MEMCTL_HOST_WATCH); /* no progress: 1 s */
}

static void test_config_equal(void)
{
    MemctlHostConfig a, b;
    memctl_host_config_default(&a);
    memctl_host_config_default(&b);
    g_assert_true(memctl_host_config_equal(&a, &b));
    b.stall_usec = 0;
    g_assert_false(memctl_host_config_equal(&a, &b));
    b = a;
    b.window_usec = 20 * MS;
    g_assert_false(memctl_host_config_equal(&a, &b));
}

static void test_back_to_calm_resets(void)
{
    Fixture f;
    fixture_init(&f);
    f.s.available = 30 * MiB;
    g_assert_cmpint(step(&f, 0, 0, 0, 0, 0, 0), ==, MEMCTL_HOST_WATCH);
    g_assert_cmpint(step(&f, 100, 0, 0, 0, 0, 0), ==, MEMCTL_HOST_CALM);
    g_assert_cmpuint(f.st.progress.stuck, ==, 0);
    g_assert_false(f.st.stall_seen); /* calm: the guard disarms, and the next arming says */
    f.st.stall_seen = true;          /* re-armed by PSI */
    g_assert_cmpint(step(&f, -100, 0, 0, 0, 0, 0), ==, MEMCTL_HOST_WATCH);
    g_assert_cmpint(step(&f, 0, 0, 0, 0, 0, 0), ==, MEMCTL_HOST_NO_PROGRESS);
}

/* A host that is full but where nobody waits for memory is not killed, and the guard disarms. */
static void test_idle_is_not_stuck(void)
{
    Fixture f;
    fixture_init(&f);
    f.s.available = 30 * MiB;
    f.idle = true;
    for (int i = 0; i < 19; i++)
        g_assert_cmpint(step(&f, 0, 0, 0, 0, 0, 0), ==, MEMCTL_HOST_WATCH);
    g_assert_cmpint(step(&f, 0, 0, 0, 0, 0, 0), ==, MEMCTL_HOST_CALM); /* 20 x 50 ms: a second */
    f.idle = false;
    f.st.stall_seen = true; /* re-armed by PSI */
    g_assert_cmpint(step(&f, 0, 0, 0, 0, 0, 0), ==, MEMCTL_HOST_WATCH);
    g_assert_cmpint(step(&f, 0, 0, 0, 0, 0, 0), ==, MEMCTL_HOST_NO_PROGRESS);
}

/* On the host window (10 ms), free swap stretches the windows without progress to the stall
 * budget's time (1 s); without free swap, two host windows decide. */
static void test_swap_room_gives_time(void)
{
    Fixture f;
    fixture_init(&f);
    MemctlProgressConfig group = f.pcfg;
    memctl_host_progress_config(&f.cfg, &group, &f.pcfg);
    g_assert_cmpuint(f.pcfg.window_usec, ==, 10 * MS);
    g_assert_cmpuint(f.pcfg.progress_floor, ==, group.progress_floor / 5);
    g_assert_cmpuint(f.pcfg.stall_windows, ==, 100); /* the same second of stall */
    f.s.available = 30 * MiB;
    f.s.swap_total = f.s.swap_free = 512 * MiB;
    for (int i = 0; i < 99; i++)
        g_assert_cmpint(step(&f, 0, 0, 0, 0, 0, 0), ==, MEMCTL_HOST_WATCH);
    g_assert_cmpint(step(&f, 0, 0, 0, 0, 0, 0), ==, MEMCTL_HOST_NO_PROGRESS);
    f.st = (MemctlHostState){.stall_seen = true};
    f.s.swap_free = 1 * MiB; /* swap full: nothing left to make progress with */
    g_assert_cmpint(step(&f, 0, 0, 0, 0, 0, 0), ==, MEMCTL_HOST_WATCH);
    g_assert_cmpint(step(&f, 0, 0, 0, 0, 0, 0), ==, MEMCTL_HOST_NO_PROGRESS);
}

/* Nothing to reclaim, no swap, someone waiting: at once. With swap room: the progress verdict. */
static void test_exhausted(void)
{
    Fixture f;
    fixture_init(&f);
    f.s.available = 5 * MiB; /* < 1% of 1 GiB */
    g_assert_true(memctl_host_exhausted(&f.s, &f.cfg, NULL));
    g_assert_cmpint(step(&f, 0, 0, 0, 0, 0, 0), ==, MEMCTL_HOST_EXHAUSTED);
    f.idle = true; /* nobody waits: no kill */
    g_assert_cmpint(step(&f, 0, 0, 0, 0, 0, 0), ==, MEMCTL_HOST_WATCH);
    f.idle = false;
    f.s.swap_total = f.s.swap_free = 512 * MiB;
    g_assert_false(memctl_host_exhausted(&f.s, &f.cfg, NULL));
    f.st = (MemctlHostState){.stall_seen = true};
    g_assert_cmpint(step(&f, 0, 0, 0, 0, 4, 0), ==, MEMCTL_HOST_WATCH);
    f.s.available = 20 * MiB;
    f.s.swap_total = f.s.swap_free = 0;
    g_assert_false(memctl_host_exhausted(&f.s, &f.cfg, NULL)); /* 2% left: the progress verdict decides */
}

/* Exhausted and still filling: someone allocates with nothing left to reclaim, and direct reclaim
 * (the stall) is next: no need to wait for it. Exhausted, nobody waiting, nothing moving: no kill. */
static void test_exhausted_filling(void)
{
    Fixture f;
    fixture_init(&f);
    f.idle = true;
    f.s.available = 6 * MiB;
    g_assert_cmpint(step(&f, 0, 0, 0, 0, 0, 0), ==, MEMCTL_HOST_WATCH);
    g_assert_cmpint(step(&f, -1, -256, 0, 0, 0, 0), ==, MEMCTL_HOST_EXHAUSTED);
    f.st = (MemctlHostState){.stall_seen = true};
    f.s.swap_total = f.s.swap_free = 512 * MiB; /* swap takes it: the progress verdict decides */
    g_assert_cmpint(step(&f, -1, -256, 0, 0, 0, 0), ==, MEMCTL_HOST_WATCH);
}

/* Swap to zram frees only what compression saves: with pages that do not compress, free zram swap
 * is no swap at all, and the host is exhausted as if it had none. Pages that compress keep it
 * useful; so does any other swap device beside zram (its share cannot be told apart). */
static void test_zram_useless_swap(void)
{
    Fixture f;
    fixture_init(&f);
    f.s.available = 6 * MiB;
    f.s.swap_total = 1024 * MiB;
    f.s.swap_free = 700 * MiB;
    f.s.zram_only = true;
    f.s.zram_orig = 300 * MiB;
    f.s.zram_used = 303 * MiB; /* random pages: zram holds more than it was given */
    g_assert_cmpuint(memctl_host_swap_useful(&f.s, NULL), ==, 0);
    g_assert_true(memctl_host_exhausted(&f.s, &f.cfg, NULL));
    g_assert_cmpint(step(&f, 0, 0, 0, 0, 0, 0), ==, MEMCTL_HOST_EXHAUSTED);
    f.s.zram_used = 30 * MiB; /* compressed 10:1: 90% of each page swapped out comes back */
    g_assert_cmpuint(memctl_host_swap_useful(&f.s, NULL), ==, 630 * MiB);
    g_assert_false(memctl_host_exhausted(&f.s, &f.cfg, NULL));
    f.s.zram_used = 303 * MiB;
    f.s.zram_only = false; /* a disk swap beside it */
    g_assert_cmpuint(memctl_host_swap_useful(&f.s, NULL), ==, 700 * MiB);
    f.s.zram_only = true;
    f.s.zram_orig = 8 * MiB; /* too little stored to say how it compresses */
    f.s.zram_used = 9 * MiB;
    g_assert_cmpuint(memctl_host_swap_useful(&f.s, NULL), ==, 700 * MiB);
}

/*
 * Thrashing to zram after other processes' pages went there: what zram stored so far compressed
 * 10:1, but the pages going out now do not compress at all. The saving is weighed on those (once 8
 * MiB of them went out within the episode's samples), not on everything stored, which still says
 * 88 % and would count 600 MiB of free swap as good as RAM. Pages going out that compress keep it.
 */
static void test_zram_recent_pages(void)
{
    for (int compress = 0; compress <= 1; compress++) {
        Fixture f;
        fixture_init(&f);
        f.s.available = 6 * MiB; /* under 1 % */
        f.s.swap_total = 1024 * MiB;
        f.s.swap_free = 700 * MiB;
        f.s.zram_only = true;
        f.s.zram_orig = 300 * MiB;
        f.s.zram_used = 30 * MiB;
        f.zram_stored = 2 * MiB;                     /* a window's swap-out */
        f.zram_bytes = compress ? MiB / 2 : 2 * MiB; /* 4:1, or not at all */
        g_assert_false(memctl_host_exhausted(&f.s, &f.cfg, &f.st));
        MemctlHostVerdict v = MEMCTL_HOST_WATCH;
        int windows = 0;
        while (windows < 20 && v != MEMCTL_HOST_EXHAUSTED) {
            v = step(&f, 0, 0, 512, 0, 2, 5);
            windows++;
        }
        g_test_message("%s: %s after %d windows", compress ? "4:1" : "1:1", memctl_host_verdict_name(v),
                       windows);
        if (compress) {
            g_assert_cmpint(v, !=, MEMCTL_HOST_EXHAUSTED);
            g_assert_cmpuint(memctl_host_swap_useful(&f.s, &f.st), ==, f.s.swap_free / 4 * 3);
        } else {
            /* noted from the first window on: 8 MiB gone out since it by the fifth */
            g_assert_cmpint(v, ==, MEMCTL_HOST_EXHAUSTED);
            g_assert_cmpint(windows, ==, 5);
            g_assert_cmpuint(memctl_host_swap_useful(&f.s, &f.st), ==, 0);
            /* everything stored: 310 MiB in 40 MiB of RAM, "87 % saved" */
            g_assert_cmpuint(memctl_host_swap_useful(&f.s, NULL), >, 500 * MiB);
        }
    }
}

/* Armed by the watch, before any PSI event: a workload growing into the last few percent may still
 * fit, so the verdicts on progress do not kill; exhaustion and the watermarks do. The first PSI event
 * (tasks really stalled) lets the progress verdict decide. */
static void test_watch_armed_needs_stall(void)
{
    Fixture f;
    fixture_init(&f);
    f.st = (MemctlHostState){0};
    f.s.available = 30 * MiB; /* under available_min (5%), over exhaustion (1%) */
    for (int i = 0; i < 20; i++)
        g_assert_cmpint(step(&f, 0, 0, 0, 0, 0, 1), ==, MEMCTL_HOST_WATCH);
    f.st.stall_seen = true; /* the PSI trigger fired */
    g_assert_cmpint(step(&f, 0, 0, 0, 0, 0, 1), ==, MEMCTL_HOST_NO_PROGRESS);
    f.st = (MemctlHostState){0};
    f.s.available = 6 * MiB; /* exhausted and still filling: knowledge, no stall needed */
    g_assert_cmpint(step(&f, -1, -256, 0, 0, 0, 0), ==, MEMCTL_HOST_EXHAUSTED);
}

/* The watch between episodes: slow while memory is plentiful, faster as the headroom shrinks at
 * the measured rate, arming before available_min is crossed. */
static void test_watch(void)
{
    MemctlHostConfig c;
    memctl_host_config_default(&c);
    const uint64_t total = 1024 * MiB, amin = memctl_host_available_min(&c, total);
    uint64_t next = 0;
    /* plenty, nothing measured yet: the slowest glance (60 a minute at most) */
    MemctlHostGlance a = {.t_usec = 1000 * MS, .total = total, .available = 800 * MiB};
    g_assert_false(memctl_host_watch(NULL, &a, &c, &next));
    g_assert_cmpuint(next, ==, MEMCTL_HOST_WATCH_MAX_USEC);
    /* steady: still the slowest */
    MemctlHostGlance b = a;
    b.t_usec += next;
    g_assert_false(memctl_host_watch(&a, &b, &c, &next));
    g_assert_cmpuint(next, ==, MEMCTL_HOST_WATCH_MAX_USEC);
    /* filling at 400 MiB/s with 200 MiB left above available_min: half the time it lasts */
    MemctlHostGlance x = {.t_usec = b.t_usec + 100 * MS, .total = total, .available = amin + 200 * MiB};
    b.available = x.available + 40 * MiB;
    g_assert_false(memctl_host_watch(&b, &x, &c, &next));
    g_assert_cmpuint(next, >=, 240 * MS);
    g_assert_cmpuint(next, <=, 260 * MS);
    /* 5 MiB left at that rate: gone within two of the guard's windows: arm */
    MemctlHostGlance y = {.t_usec = x.t_usec + 100 * MS, .total = total, .available = amin + 5 * MiB};
    x.available = y.available + 40 * MiB;
    g_assert_true(memctl_host_watch(&x, &y, &c, &next));
    /* a little headroom, nothing falling: the floor rate, but never faster than the guard's window */
    MemctlHostGlance z = {.t_usec = y.t_usec + 10 * MS, .total = total, .available = amin + 256 * 1024};
    MemctlHostGlance zz = z;
    zz.t_usec += 10 * MS;
    g_assert_false(memctl_host_watch(&z, &zz, &c, &next));
    g_assert_cmpuint(next, ==, c.window_usec);
    /* below available_min and still filling: arm; below it but idle: glance now and then */
    MemctlHostGlance lo = {.t_usec = zz.t_usec + 10 * MS, .total = total, .available = amin - MiB};
    g_assert_true(memctl_host_watch(&zz, &lo, &c, &next));
    MemctlHostGlance lo2 = lo;
    lo2.t_usec += 10 * MS;
    g_assert_false(memctl_host_watch(&lo, &lo2, &c, &next));
    g_assert_cmpuint(next, ==, MEMCTL_HOST_WATCH_IDLE_USEC);
}

static void test_names(void)
{
    g_assert_cmpstr(memctl_host_verdict_name(MEMCTL_HOST_WATERMARK), ==, "host-watermark");
    g_assert_true(memctl_host_verdict_is_kill(MEMCTL_HOST_STALL));
    g_assert_false(memctl_host_verdict_is_kill(MEMCTL_HOST_WATCH));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/host/defaults", test_defaults);
    g_test_add_func("/host/calm", test_calm);
    g_test_add_func("/host/watermark-breach", test_watermark_breach);
    g_test_add_func("/host/watermark-recovering", test_watermark_recovering);
    g_test_add_func("/host/watermark-projection", test_watermark_projection);
    g_test_add_func("/host/swap-progress-no-kill", test_swap_progress_no_kill);
    g_test_add_func("/host/no-progress-kills", test_no_progress_kills);
    g_test_add_func("/host/thrashing-kills", test_thrashing_kills);
    g_test_add_func("/host/stall-kills", test_stall_kills);
    g_test_add_func("/host/stall-leaks", test_stall_leaks);
    g_test_add_func("/host/stall-off", test_stall_off);
    g_test_add_func("/host/config-equal", test_config_equal);
    g_test_add_func("/host/back-to-calm", test_back_to_calm_resets);
    g_test_add_func("/host/idle", test_idle_is_not_stuck);
    g_test_add_func("/host/swap-room", test_swap_room_gives_time);
    g_test_add_func("/host/swapins-are-not-progress", test_swapins_are_not_progress);
    g_test_add_func("/host/zram-is-paid-in-ram", test_zram_is_paid_in_ram);
    g_test_add_func("/host/stuck-is-leaky", test_stuck_is_leaky);
    g_test_add_func("/host/exhausted", test_exhausted);
    g_test_add_func("/host/exhausted-filling", test_exhausted_filling);
    g_test_add_func("/host/watch", test_watch);
    g_test_add_func("/host/watch-armed-needs-stall", test_watch_armed_needs_stall);
    g_test_add_func("/host/zram-useless-swap", test_zram_useless_swap);
    g_test_add_func("/host/zram-recent-pages", test_zram_recent_pages);
    g_test_add_func("/host/names", test_names);
    return g_test_run();
}
