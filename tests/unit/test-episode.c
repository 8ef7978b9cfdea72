/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The episode state machine (policy/episode.c) on synthetic samples: every transition the core
 * makes for a group over high, without a kernel. The core (daemon/core/slot.c, kill.c) does the
 * reading and the killing around these calls; the VM suites show that the whole works.
 */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include "policy/episode.h"

#define MiB (1024ull * 1024)
#define MS 1000ull
#define HIGH (100 * MiB)

typedef struct {
    MemctlEpisode ep;
    MemctlProgressConfig cfg;
    MemctlProgressSample x; /* the group as the next sample will show it */
    uint64_t t_rt;
    const char *reason;
} Fixture;

static void fixture_init(Fixture *f)
{
    memctl_episode_init(&f->ep);
    memctl_progress_config_default(&f->cfg);
    /* what reclaim could free unknown: the windows decide (the knowledge path has its own tests) */
    f->x = (MemctlProgressSample){
            .t_usec = 1000 * MS, .current = 90 * MiB, .high = HIGH, .reclaimable = UINT64_MAX};
    f->t_rt = 1700000000ull * 1000000;
    f->reason = NULL;
}

/* The core's side of one decision: sample only if the episode wants one, then decide. */
static MemctlEpisodeAction check(Fixture *f, MemctlEpisodeCause cause)
{
    if (!memctl_episode_wants_sample(&f->ep, cause, f->x.high))
        return MEMCTL_EPISODE_NONE;
    f->reason = NULL;
    return memctl_episode_decide(&f->ep, cause, &f->x, f->t_rt, &f->cfg, 4096, &f->reason);
}

/* One decision window passes: usage moves by dcur_mib, reclaim frees steal_mib, stall_ms stalled. */
static MemctlEpisodeAction window(Fixture *f, int64_t dcur_mib, uint64_t steal_mib, uint64_t stall_ms)
{
    f->x.t_usec += f->cfg.window_usec;
    f->t_rt += f->cfg.window_usec;
    f->x.current = (uint64_t)((int64_t)f->x.current + dcur_mib * (int64_t)MiB);
    f->x.pgsteal += steal_mib * MiB / 4096;
    f->x.full_total_usec += stall_ms * MS;
    return check(f, MEMCTL_EPISODE_TICK);
}

/* Goes over high and starts the episode. */
static void go_over(Fixture *f)
{
    f->x.current = HIGH + 20 * MiB;
    g_assert_cmpint(check(f, MEMCTL_EPISODE_EVENT), ==, MEMCTL_EPISODE_START);
    g_assert_true(f->ep.sampling);
    g_assert_true(memctl_episode_needs_timer(&f->ep));
}

/* Windows without progress until the verdict is a kill; returns how many it took. */
static int until_kill(Fixture *f)
{
    for (int n = 1; n <= 100; n++)
        if (window(f, 0, 0, 10) == MEMCTL_EPISODE_KILL)
            return n;
    g_assert_not_reached();
}

/* An episode over high whose first victim was just signalled. */
static void with_victim(Fixture *f)
{
    fixture_init(f);
    go_over(f);
    (void)until_kill(f);
    memctl_episode_victim_started(&f->ep);
}

static void test_under_high_nothing(void)
{
    Fixture f;
    fixture_init(&f);
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_EVENT), ==, MEMCTL_EPISODE_NONE);
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_PRESSURE), ==, MEMCTL_EPISODE_NONE);
    g_assert_false(f.ep.sampling);
    g_assert_false(memctl_episode_needs_timer(&f.ep));
}

static void test_no_high_never_sampled(void)
{
    Fixture f;
    fixture_init(&f);
    f.x.high = UINT64_MAX;
    f.x.current = 10000 * MiB;
    g_assert_false(memctl_episode_wants_sample(&f.ep, MEMCTL_EPISODE_EVENT, f.x.high));
    g_assert_false(memctl_episode_wants_sample(&f.ep, MEMCTL_EPISODE_TICK, f.x.high));
}

static void test_start_records_origin(void)
{
    Fixture f;
    fixture_init(&f);
    go_over(&f);
    g_assert_cmpuint(f.ep.t_over_rt, ==, f.t_rt);
    g_assert_cmpuint(f.ep.t_over_mono, ==, f.x.t_usec);
    g_assert_cmpuint(f.ep.last.current, ==, HIGH + 20 * MiB);
    /* sampling: events and PSI are checked against what is known, but the window verdict is made
     * on the window's edges only: its samples stay as they are */
    g_assert_true(memctl_episode_wants_sample(&f.ep, MEMCTL_EPISODE_EVENT, HIGH));
    g_assert_true(memctl_episode_wants_sample(&f.ep, MEMCTL_EPISODE_PRESSURE, HIGH));
    g_assert_true(memctl_episode_wants_sample(&f.ep, MEMCTL_EPISODE_TICK, HIGH));
    MemctlProgressSample first = f.ep.last;
    f.x.t_usec += 10 * MS;
    f.x.current += 30 * MiB;
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_EVENT), ==, MEMCTL_EPISODE_NONE);
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_PRESSURE), ==, MEMCTL_EPISODE_NONE);
    g_assert_true(memcmp(&first, &f.ep.last, sizeof(first)) == 0);
}

static void test_no_progress_kills(void)
{
    Fixture f;
    fixture_init(&f);
    go_over(&f);
    g_assert_cmpint(until_kill(&f), ==, (int)f.cfg.stuck_windows);
    g_assert_cmpstr(f.reason, ==, "no-progress");
    g_assert_cmpint(f.ep.verdict, ==, MEMCTL_VERDICT_NO_PROGRESS);
}

static void test_progress_never_kills(void)
{
    Fixture f;
    fixture_init(&f);
    go_over(&f);
    for (int i = 0; i < 500; i++)
        g_assert_cmpint(window(&f, 0, 4, 10), ==, MEMCTL_EPISODE_NONE); /* 4 MiB reclaimed a window */
    g_assert_true(f.ep.sampling);
}

static void test_calm_ends_episode(void)
{
    Fixture f;
    fixture_init(&f);
    go_over(&f);
    (void)window(&f, 0, 0, 10);
    g_assert_cmpint(window(&f, -40, 0, 0), ==, MEMCTL_EPISODE_CALM);
    g_assert_false(f.ep.sampling);
    g_assert_cmpuint(f.ep.t_over_rt, ==, 0);
    g_assert_false(memctl_episode_needs_timer(&f.ep));
    /* over again: a new episode, with a fresh count */
    go_over(&f);
    g_assert_cmpint(until_kill(&f), ==, (int)f.cfg.stuck_windows);
}

/* A victim is dying: nothing new is decided on the event path; the next kill needs a whole
 * decision's worth of windows measured after this one. */
static void test_victim_waited_for(void)
{
    Fixture f;
    with_victim(&f);
    g_assert_cmpuint(f.ep.progress.stuck, ==, 0);
    g_assert_cmpint(window(&f, 0, 0, 10), ==, MEMCTL_EPISODE_NONE); /* one window: not enough */
    /* it exited: the episode is decided afresh from what the group looks like now */
    memctl_episode_victim_done(&f.ep, true);
    g_assert_false(f.ep.victim);
    g_assert_false(f.ep.sampling);
    g_assert_cmpuint(f.ep.t_over_rt, ==, 0);
    g_assert_true(memctl_episode_wants_sample(&f.ep, MEMCTL_EPISODE_EVENT, HIGH));
    f.x.current = HIGH - MiB;
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_EVENT), ==, MEMCTL_EPISODE_NONE);
}

/* A manual kill (KillGroup) of a group under high: while its victim is dying, nothing starts, even
 * if the group crosses high meanwhile; once it has exited, an episode may start. */
static void test_dying_victim_blocks_start(void)
{
    Fixture f;
    fixture_init(&f);
    memctl_episode_set_origin(&f.ep, &f.x, f.t_rt, f.x.t_usec, NULL);
    memctl_episode_victim_started(&f.ep);
    g_assert_false(f.ep.sampling);
    f.x.current = HIGH + 50 * MiB;
    g_assert_false(memctl_episode_wants_sample(&f.ep, MEMCTL_EPISODE_EVENT, HIGH));
    g_assert_false(memctl_episode_wants_sample(&f.ep, MEMCTL_EPISODE_PRESSURE, HIGH));
    g_assert_false(memctl_episode_needs_timer(&f.ep)); /* no timer runs for it */
    memctl_episode_victim_done(&f.ep, true);
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_EVENT), ==, MEMCTL_EPISODE_START);
}

/* Seed of "Re-enable OOM killer using timers" (docs/WHY.md): the victim cannot exit. Windows
 * without progress measured after its kill escalate, and the next kill says it was a livelock. */
static void test_livelock_escalation(void)
{
    Fixture f;
    fixture_init(&f);
    go_over(&f);
    (void)until_kill(&f);
    g_assert_false(memctl_episode_escalates(&f.ep)); /* no victim yet: a first kill */
    memctl_episode_victim_started(&f.ep);
    g_assert_cmpint(until_kill(&f), ==, (int)f.cfg.stuck_windows);
    g_assert_true(memctl_episode_escalates(&f.ep));
    memctl_episode_victim_done(&f.ep, false); /* its record goes out, not exited */
    g_assert_true(f.ep.sampling);             /* the episode goes on */
    memctl_episode_victim_started(&f.ep);
    g_assert_true(f.ep.victim);
}

/* The victim never exits, but the group went back under high: the episode is over, and the
 * victim's record waits for the exit at most MEMCTL_EPISODE_RELEASED_WAIT_USEC. */
static void test_victim_never_exits(void)
{
    Fixture f;
    with_victim(&f);
    g_assert_cmpint(window(&f, -30, 0, 0), ==, MEMCTL_EPISODE_CALM);
    g_assert_true(f.ep.released);
    g_assert_cmpuint(f.ep.t_released, ==, f.x.t_usec);
    g_assert_true(memctl_episode_needs_timer(&f.ep)); /* for the release wait */
    g_assert_false(memctl_episode_escalates(&f.ep));  /* it gave its memory back: no livelock */
    uint64_t t = f.x.t_usec;
    g_assert_false(memctl_episode_release_expired(&f.ep, t + MEMCTL_EPISODE_RELEASED_WAIT_USEC - 1));
    g_assert_true(memctl_episode_release_expired(&f.ep, t + MEMCTL_EPISODE_RELEASED_WAIT_USEC));
    /* a new episode may start meanwhile: the released victim does not block it */
    f.x.current = HIGH + 10 * MiB;
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_EVENT), ==, MEMCTL_EPISODE_START);
    memctl_episode_victim_done(&f.ep, false); /* the wait is over: record as it stands */
    g_assert_true(f.ep.sampling);             /* ... and the new episode is untouched */
    g_assert_false(f.ep.released);
    g_assert_false(memctl_episode_release_expired(&f.ep, UINT64_MAX));
}

/* A released victim exiting later does not end the episode that began after it. */
static void test_released_exit_keeps_new_episode(void)
{
    Fixture f;
    with_victim(&f);
    g_assert_cmpint(window(&f, -30, 0, 0), ==, MEMCTL_EPISODE_CALM);
    go_over(&f);
    memctl_episode_victim_done(&f.ep, true);
    g_assert_true(f.ep.sampling);
    g_assert_cmpuint(f.ep.t_over_rt, !=, 0);
}

/* A candidate is dying already (the kernel's OOM killer got there first): no report, and the
 * episode goes on deciding (the next window decides again). */
static void test_dying_candidate(void)
{
    Fixture f;
    fixture_init(&f);
    go_over(&f);
    (void)until_kill(&f);
    g_assert_false(memctl_episode_kill_result(&f.ep, -EINPROGRESS));
    g_assert_false(f.ep.victim);
    g_assert_cmpint(window(&f, 0, 0, 10), ==, MEMCTL_EPISODE_KILL);
}

/* A critical group (everything in it spared) over high without progress: "no eligible victim" is
 * said once per episode, although the verdict is a kill at every window. */
static void test_critical_no_victim_once(void)
{
    Fixture f;
    fixture_init(&f);
    go_over(&f);
    (void)until_kill(&f);
    g_assert_true(memctl_episode_kill_result(&f.ep, -ESRCH));
    for (int i = 0; i < 5; i++) {
        g_assert_cmpint(window(&f, 0, 0, 10), ==, MEMCTL_EPISODE_KILL);
        g_assert_false(memctl_episode_kill_result(&f.ep, -ESRCH));
    }
    /* calm and over again: a new episode says it again */
    g_assert_cmpint(window(&f, -40, 0, 0), ==, MEMCTL_EPISODE_CALM);
    go_over(&f);
    (void)until_kill(&f);
    g_assert_true(memctl_episode_kill_result(&f.ep, -ESRCH));
    /* a kill that works in between resets it too */
    g_assert_false(memctl_episode_kill_result(&f.ep, 0));
    g_assert_true(memctl_episode_kill_result(&f.ep, -ESRCH));
    /* any other failure is always said */
    g_assert_true(memctl_episode_kill_result(&f.ep, -EIO));
    g_assert_true(memctl_episode_kill_result(&f.ep, -EIO));
}

/* memory.max hit in a window without progress: kill at once ("max"), between the window's edges. */
static void test_max_without_progress(void)
{
    Fixture f;
    fixture_init(&f);
    memctl_episode_max_hit(&f.ep); /* not sampling: nothing to hurry */
    g_assert_false(f.ep.max_hit);
    go_over(&f);
    f.x.t_usec += f.cfg.window_usec / 2;
    memctl_episode_max_hit(&f.ep);
    g_assert_true(memctl_episode_wants_sample(&f.ep, MEMCTL_EPISODE_EVENT, HIGH));
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_EVENT), ==, MEMCTL_EPISODE_KILL);
    g_assert_cmpstr(f.reason, ==, "max");
    g_assert_false(f.ep.max_hit);
    /* the hit was used up: the next event is only checked against what is known */
    f.x.t_usec += MS;
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_EVENT), ==, MEMCTL_EPISODE_NONE);
    memctl_episode_victim_started(&f.ep); /* and while its victim dies, only the window's tick samples */
    g_assert_false(memctl_episode_wants_sample(&f.ep, MEMCTL_EPISODE_EVENT, HIGH));
}

/* memory.max hit while reclaim keeps pace: no kill, the kernel's reclaim is working. */
static void test_max_with_progress(void)
{
    Fixture f;
    fixture_init(&f);
    go_over(&f);
    memctl_episode_max_hit(&f.ep);
    f.x.t_usec += f.cfg.window_usec;
    f.x.pgsteal += 4 * MiB / 4096;
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_EVENT), ==, MEMCTL_EPISODE_NONE);
    g_assert_false(f.ep.max_hit);
}

/* Stalling over the budget for stall_windows, even with progress: kill for "stall". */
static void test_stall_kills(void)
{
    Fixture f;
    fixture_init(&f);
    go_over(&f);
    int n = 0;
    MemctlEpisodeAction a;
    while ((a = window(&f, 0, 4, 45)) == MEMCTL_EPISODE_NONE) /* 90% of a 50 ms window stalled */
        n++;
    g_assert_cmpint(a, ==, MEMCTL_EPISODE_KILL);
    g_assert_cmpstr(f.reason, ==, "stall");
    g_assert_cmpint(n + 1, ==, (int)f.cfg.stall_windows);
}

/* The "stall" alert: a window whose full stall reached the budget says so; a calmer window, the
 * crossing, and events between windows do not. */
static void test_window_stalled(void)
{
    Fixture f;
    fixture_init(&f);
    go_over(&f);
    g_assert_false(f.ep.window_stalled);                            /* the crossing: no window measured yet */
    g_assert_cmpint(window(&f, 0, 4, 45), ==, MEMCTL_EPISODE_NONE); /* 90% of the window */
    g_assert_true(f.ep.window_stalled);
    f.x.t_usec += 1000;
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_EVENT), ==, MEMCTL_EPISODE_NONE);
    g_assert_false(f.ep.window_stalled);
    g_assert_cmpint(window(&f, 0, 4, 5), ==, MEMCTL_EPISODE_NONE); /* 10% */
    g_assert_false(f.ep.window_stalled);
    g_assert_cmpint(window(&f, 0, 4, 30), ==, MEMCTL_EPISODE_NONE); /* 60%: the budget itself */
    g_assert_true(f.ep.window_stalled);
}

/* A manual or host kill writes its own evidence into the record's fields. */
static void test_set_origin(void)
{
    Fixture f;
    fixture_init(&f);
    MemctlProgressSample x = {.t_usec = 5, .current = 77 * MiB, .high = HIGH};
    MemctlProgressFigures fig = {.reclaimed_bytes = 3, .stall_pct = 42};
    memctl_episode_set_origin(&f.ep, &x, 11, 22, &fig);
    g_assert_cmpuint(f.ep.last.current, ==, 77 * MiB);
    g_assert_cmpuint(f.ep.t_over_rt, ==, 11);
    g_assert_cmpuint(f.ep.t_over_mono, ==, 22);
    g_assert_cmpuint(f.ep.figures.stall_pct, ==, 42);
    memctl_episode_set_origin(&f.ep, NULL, 33, 44, NULL); /* no sample: the last one stands */
    g_assert_cmpuint(f.ep.last.current, ==, 77 * MiB);
    g_assert_cmpuint(f.ep.figures.stall_pct, ==, 42);
    g_assert_cmpuint(f.ep.t_over_mono, ==, 44);
}

/* ---- knowledge: nothing reclaim could free covers the overage ------------------------------ */

/* Crossing high with nothing reclaimable (no swap, no cache): killed at the crossing, no window. */
static void test_no_reclaim_kills_at_crossing(void)
{
    Fixture f;
    fixture_init(&f);
    f.x.reclaimable = 2 * MiB;
    f.x.current = HIGH + 8 * MiB;
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_EVENT), ==, MEMCTL_EPISODE_KILL);
    g_assert_cmpstr(f.reason, ==, "no-reclaim");
    /* the episode goes on (the timer runs: a victim that cannot exit is escalated on the windows) */
    g_assert_true(f.ep.sampling);
    g_assert_true(memctl_episode_needs_timer(&f.ep));
    g_assert_cmpuint(f.ep.t_over_mono, ==, f.x.t_usec);
    g_assert_cmpuint(f.ep.figures.reclaimable_bytes, ==, 2 * MiB);
    g_assert_cmpuint(f.ep.figures.dt_usec, ==, 0);
}

/* Over high by less than the progress floor: left to the windows even with nothing reclaimable. */
static void test_no_reclaim_within_margin_waits(void)
{
    Fixture f;
    fixture_init(&f);
    f.x.reclaimable = 0;
    f.x.current = HIGH + f.cfg.progress_floor;
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_EVENT), ==, MEMCTL_EPISODE_START);
    f.x.current += 4096;
    f.x.t_usec += 5 * MS;
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_EVENT), ==, MEMCTL_EPISODE_KILL);
    g_assert_cmpstr(f.reason, ==, "no-reclaim");
    g_assert_cmpuint(f.ep.figures.dt_usec, ==, 5 * MS);
    /* the kill record's usage is the sample that decided, not the crossing's */
    g_assert_cmpuint(f.ep.last.current, ==, HIGH + f.cfg.progress_floor + 4096);
    g_assert_cmpuint(f.ep.last.t_usec, ==, f.x.t_usec);

    /* the overage is of what the group uses: 2 MiB charged ahead of use (a huge page khugepaged
     * is collapsing pages into) is none */
    fixture_init(&f);
    f.x.reclaimable = 0;
    f.x.current = HIGH + f.cfg.progress_floor + 2 * MiB;
    f.x.ahead = 2 * MiB;
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_EVENT), ==, MEMCTL_EPISODE_START);
    f.x.ahead = 0; /* collapsed: the pages it replaced are still charged, not yet freed */
    f.x.t_usec += 5 * MS;
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_EVENT), ==, MEMCTL_EPISODE_KILL);
    g_assert_cmpstr(f.reason, ==, "no-reclaim");
    g_assert_cmpuint(f.ep.last.ahead, ==, 0);
}

/* Reclaim could cover the overage: the windows decide; once it cannot (the cache is gone, the hog
 * grew), the next event kills between windows without touching the window's samples. */
static void test_reclaimable_then_gone(void)
{
    Fixture f;
    fixture_init(&f);
    f.x.reclaimable = 30 * MiB;
    f.x.current = HIGH + 20 * MiB;
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_EVENT), ==, MEMCTL_EPISODE_START);
    MemctlProgressSample first = f.ep.last;
    f.x.t_usec += 10 * MS;
    f.x.current += 5 * MiB;
    f.x.reclaimable = 26 * MiB; /* still covers 25 MiB */
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_EVENT), ==, MEMCTL_EPISODE_NONE);
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_PRESSURE), ==, MEMCTL_EPISODE_NONE);
    g_assert_true(memcmp(&first, &f.ep.last, sizeof(first)) == 0);
    f.x.t_usec += 10 * MS;
    f.x.reclaimable = 3 * MiB;
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_EVENT), ==, MEMCTL_EPISODE_KILL);
    g_assert_cmpstr(f.reason, ==, "no-reclaim");
    g_assert_cmpuint(f.ep.figures.dt_usec, ==, 20 * MS);
    g_assert_cmpuint(f.ep.figures.reclaimable_bytes, ==, 3 * MiB);
}

/* Reclaim that covers the overage and makes progress is never cut short: the window verdict rules. */
static void test_reclaimable_progress_never_kills(void)
{
    Fixture f;
    fixture_init(&f);
    f.x.reclaimable = 200 * MiB;
    go_over(&f);
    for (int n = 0; n < 50; n++) {
        g_assert_cmpint(window(&f, 0, 4, 0), ==, MEMCTL_EPISODE_NONE);
        f.x.t_usec += MS;
        g_assert_cmpint(check(&f, MEMCTL_EPISODE_EVENT), ==, MEMCTL_EPISODE_NONE);
    }
}

/* A dying victim's memory is on its way back: no knowledge kill until it is released or exits
 * (WHY.md §1: no collateral victim), only the windows' escalation verdict. */
static void test_no_reclaim_waits_for_victim(void)
{
    Fixture f;
    fixture_init(&f);
    f.x.reclaimable = 0;
    f.x.current = HIGH + 20 * MiB;
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_EVENT), ==, MEMCTL_EPISODE_KILL);
    memctl_episode_victim_started(&f.ep);
    f.x.t_usec += MS;
    g_assert_false(memctl_episode_wants_sample(&f.ep, MEMCTL_EPISODE_EVENT, HIGH));
    g_assert_false(memctl_episode_wants_sample(&f.ep, MEMCTL_EPISODE_PRESSURE, HIGH));
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_EVENT), ==, MEMCTL_EPISODE_NONE);
    /* on the windows: the victim did not free anything for two windows, an escalation */
    g_assert_cmpint(window(&f, 0, 0, 10), ==, MEMCTL_EPISODE_NONE);
    g_assert_cmpint(window(&f, 0, 0, 10), ==, MEMCTL_EPISODE_KILL);
    g_assert_cmpstr(f.reason, ==, "no-progress");
    g_assert_true(memctl_episode_escalates(&f.ep));
    /* it exited: the group is decided afresh from what it looks like now */
    memctl_episode_victim_done(&f.ep, true);
    f.x.t_usec += MS;
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_EVENT), ==, MEMCTL_EPISODE_KILL);
    g_assert_cmpstr(f.reason, ==, "no-reclaim");
}

/* Between windows the core reads memory.current first: the rest only for an overage beyond the
 * margin, with no victim dying; the window's tick, a max hit and a start always read everything. */
static void test_event_needs_sample(void)
{
    Fixture f;
    fixture_init(&f);
    g_assert_true(
            memctl_episode_event_needs_sample(&f.ep, MEMCTL_EPISODE_EVENT, 0, HIGH, &f.cfg)); /* a start */
    go_over(&f);
    const uint64_t m = f.cfg.progress_floor;
    g_assert_false(memctl_episode_event_needs_sample(&f.ep, MEMCTL_EPISODE_EVENT, HIGH + m, HIGH, &f.cfg));
    g_assert_true(memctl_episode_event_needs_sample(&f.ep, MEMCTL_EPISODE_EVENT, HIGH + m + 1, HIGH, &f.cfg));
    g_assert_true(
            memctl_episode_event_needs_sample(&f.ep, MEMCTL_EPISODE_PRESSURE, HIGH + m + 1, HIGH, &f.cfg));
    g_assert_false(memctl_episode_event_needs_sample(&f.ep, MEMCTL_EPISODE_EVENT, HIGH / 2, HIGH, &f.cfg));
    g_assert_true(memctl_episode_event_needs_sample(&f.ep, MEMCTL_EPISODE_TICK, HIGH / 2, HIGH, &f.cfg));
    memctl_episode_max_hit(&f.ep);
    g_assert_true(memctl_episode_event_needs_sample(&f.ep, MEMCTL_EPISODE_EVENT, HIGH, HIGH, &f.cfg));
    (void)until_kill(&f);
    memctl_episode_victim_started(&f.ep);
    g_assert_false(
            memctl_episode_event_needs_sample(&f.ep, MEMCTL_EPISODE_EVENT, HIGH + 50 * MiB, HIGH, &f.cfg));
}

/* Unknown (a counter missing from memory.stat): never a knowledge kill. */
static void test_unknown_reclaim_waits(void)
{
    Fixture f;
    fixture_init(&f);
    f.x.current = HIGH + 500 * MiB;
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_EVENT), ==, MEMCTL_EPISODE_START);
    f.x.t_usec += MS;
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_EVENT), ==, MEMCTL_EPISODE_NONE);
}

/* A dry run's verdict (policy/shadow.h): no other kill is decided while it is watched; it settles on
 * the first of the kernel's kill, calm, or the watch's end, and then verdicts come again. */
static void test_shadow_suppresses_then_settles(void)
{
    Fixture f;
    fixture_init(&f);
    go_over(&f);
    (void)until_kill(&f);
    memctl_episode_shadow_started(&f.ep, f.x.t_usec);
    g_assert_false(f.ep.victim); /* nobody is dying: the episode goes on */
    uint64_t t0 = f.x.t_usec;
    while (f.x.t_usec + f.cfg.window_usec - t0 < MEMCTL_SHADOW_WATCH_USEC) { /* stuck all along */
        g_assert_cmpint(window(&f, 0, 0, 10), ==, MEMCTL_EPISODE_NONE);
        g_assert_cmpint(memctl_episode_shadow_settle(&f.ep, f.x.t_usec, false), ==, MEMCTL_SHADOW_NONE);
    }
    g_assert_true(f.ep.shadow.active);
    f.x.t_usec = t0 + MEMCTL_SHADOW_WATCH_USEC;
    g_assert_cmpint(memctl_episode_shadow_settle(&f.ep, f.x.t_usec, false), ==, MEMCTL_SHADOW_STILL_STUCK);
    g_assert_false(f.ep.shadow.active);
    g_assert_cmpint(memctl_episode_shadow_settle(&f.ep, f.x.t_usec, true), ==, MEMCTL_SHADOW_NONE); /* once */
    /* the windows watched were evidence measured after the verdict: still stuck, the next verdict
     * comes at the next window */
    g_assert_cmpint(until_kill(&f), ==, 1);
}

static void test_shadow_kernel_killed_first(void)
{
    Fixture f;
    fixture_init(&f);
    go_over(&f);
    (void)until_kill(&f);
    memctl_episode_shadow_started(&f.ep, f.x.t_usec);
    /* the kernel's kill and the calm it brings are seen together: the kill is what happened */
    f.x.current = HIGH / 2;
    g_assert_cmpint(window(&f, 0, 0, 0), ==, MEMCTL_EPISODE_CALM);
    g_assert_cmpint(memctl_episode_shadow_settle(&f.ep, f.x.t_usec, true), ==, MEMCTL_SHADOW_KERNEL_KILLED);
}

static void test_shadow_recovered(void)
{
    Fixture f;
    fixture_init(&f);
    go_over(&f);
    (void)until_kill(&f);
    memctl_episode_shadow_started(&f.ep, f.x.t_usec);
    g_assert_cmpint(memctl_episode_shadow_settle(&f.ep, f.x.t_usec + MS, false), ==, MEMCTL_SHADOW_NONE);
    f.x.current = HIGH / 2;
    g_assert_cmpint(window(&f, 0, 0, 0), ==, MEMCTL_EPISODE_CALM);
    g_assert_cmpint(memctl_episode_shadow_settle(&f.ep, f.x.t_usec, false), ==, MEMCTL_SHADOW_RECOVERED);
    g_assert_cmpstr(memctl_shadow_outcome_name(MEMCTL_SHADOW_RECOVERED), ==, "recovered");
    g_assert_cmpstr(memctl_shadow_outcome_name(MEMCTL_SHADOW_KERNEL_KILLED), ==, "kernel-killed");
    g_assert_cmpstr(memctl_shadow_outcome_name(MEMCTL_SHADOW_STILL_STUCK), ==, "still-stuck");
    g_assert_cmpstr(memctl_shadow_outcome_name(MEMCTL_SHADOW_NONE), ==, "pending");
}

/* On knowledge (no-reclaim) too: the overage that decided stays, and is not decided again. */
static void test_shadow_knowledge_not_repeated(void)
{
    Fixture f;
    fixture_init(&f);
    f.x.reclaimable = 0;
    f.x.current = HIGH + 20 * MiB;
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_EVENT), ==, MEMCTL_EPISODE_KILL);
    g_assert_cmpstr(f.reason, ==, "no-reclaim");
    memctl_episode_shadow_started(&f.ep, f.x.t_usec);
    f.x.current += 10 * MiB;
    g_assert_cmpint(check(&f, MEMCTL_EPISODE_EVENT), ==, MEMCTL_EPISODE_NONE);
    g_assert_cmpint(window(&f, 0, 0, 10), ==, MEMCTL_EPISODE_NONE);
    g_assert_null(f.reason);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/episode/under-high-nothing", test_under_high_nothing);
    g_test_add_func("/episode/no-high-never-sampled", test_no_high_never_sampled);
    g_test_add_func("/episode/window-stalled", test_window_stalled);
    g_test_add_func("/episode/start-records-origin", test_start_records_origin);
    g_test_add_func("/episode/no-progress-kills", test_no_progress_kills);
    g_test_add_func("/episode/progress-never-kills", test_progress_never_kills);
    g_test_add_func("/episode/calm-ends-episode", test_calm_ends_episode);
    g_test_add_func("/episode/victim-waited-for", test_victim_waited_for);
    g_test_add_func("/episode/dying-victim-blocks-start", test_dying_victim_blocks_start);
    g_test_add_func("/episode/livelock-escalation", test_livelock_escalation);
    g_test_add_func("/episode/victim-never-exits", test_victim_never_exits);
    g_test_add_func("/episode/released-exit-keeps-new-episode", test_released_exit_keeps_new_episode);
    g_test_add_func("/episode/dying-candidate", test_dying_candidate);
    g_test_add_func("/episode/critical-no-victim-once", test_critical_no_victim_once);
    g_test_add_func("/episode/max-without-progress", test_max_without_progress);
    g_test_add_func("/episode/max-with-progress", test_max_with_progress);
    g_test_add_func("/episode/stall-kills", test_stall_kills);
    g_test_add_func("/episode/set-origin", test_set_origin);
    g_test_add_func("/episode/no-reclaim-kills-at-crossing", test_no_reclaim_kills_at_crossing);
    g_test_add_func("/episode/no-reclaim-within-margin-waits", test_no_reclaim_within_margin_waits);
    g_test_add_func("/episode/reclaimable-then-gone", test_reclaimable_then_gone);
    g_test_add_func("/episode/reclaimable-progress-never-kills", test_reclaimable_progress_never_kills);
    g_test_add_func("/episode/no-reclaim-waits-for-victim", test_no_reclaim_waits_for_victim);
    g_test_add_func("/episode/unknown-reclaim-waits", test_unknown_reclaim_waits);
    g_test_add_func("/episode/event-needs-sample", test_event_needs_sample);
    g_test_add_func("/episode/shadow-suppresses-then-settles", test_shadow_suppresses_then_settles);
    g_test_add_func("/episode/shadow-kernel-killed-first", test_shadow_kernel_killed_first);
    g_test_add_func("/episode/shadow-recovered", test_shadow_recovered);
    g_test_add_func("/episode/shadow-knowledge-not-repeated", test_shadow_knowledge_not_repeated);
    return g_test_run();
}
