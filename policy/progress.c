/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy/progress.h"

#include <stddef.h>

void memctl_progress_config_default(MemctlProgressConfig *c)
{
    c->window_usec = 50 * 1000;
    c->stuck_windows = 2;
    c->progress_floor = 1 << 20;
    c->stall_budget_pct = 60;
    c->stall_windows = 20;
    c->stuck_leaky = false; /* groups: windows without progress in a row (the host sets it) */
    c->hover_band = true;   /* groups (the host clears it: its "high" is available_min) */
}

static uint64_t delta(uint64_t a, uint64_t b)
{
    return b > a ? b - a : 0; /* counters can reset if a cgroup is recreated: never negative */
}

MemctlVerdict memctl_progress_decide(const MemctlProgressSample *prev, const MemctlProgressSample *cur,
                                     const MemctlProgressConfig *cfg, uint64_t page_size,
                                     MemctlProgressState *state, MemctlProgressFigures *ret_figures)
{
    MemctlProgressFigures f = {0};
    f.dt_usec = delta(prev->t_usec, cur->t_usec);
    f.reclaimed_bytes = delta(prev->pgsteal, cur->pgsteal) * page_size;
    f.refaulted_bytes = delta(prev->refault, cur->refault) * page_size;
    f.swapped_bytes = delta(prev->swap_current, cur->swap_current);
    f.freed_bytes = delta(cur->current, prev->current);
    f.reclaimable_bytes = cur->reclaimable;
    uint64_t stall = delta(prev->full_total_usec, cur->full_total_usec);
    if (f.dt_usec > 0)
        f.stall_pct = (uint32_t)(stall >= f.dt_usec ? 100 : stall * 100 / f.dt_usec);
    if (ret_figures)
        *ret_figures = f;

    if (cur->current <= cur->high) {
        state->stuck = 0;
        state->stalled = 0;
        return MEMCTL_VERDICT_CALM;
    }
    if (f.dt_usec == 0)
        return MEMCTL_VERDICT_WAIT;

    /* Scale the floor to the time that really passed, so a late sample is not held to more. */
    uint64_t floor = cfg->progress_floor;
    if (cfg->window_usec > 0 && f.dt_usec < cfg->window_usec)
        floor = floor * f.dt_usec / cfg->window_usec;
    /* Reclaim counts net of refaults: pages that come straight back were not really reclaimed. */
    uint64_t net = f.reclaimed_bytes > f.refaulted_bytes ? f.reclaimed_bytes - f.refaulted_bytes : 0;
    bool progress = f.freed_bytes > 0 || net + f.swapped_bytes >= (floor > 0 ? floor : 1);

    /* A leaky count: a window over the budget adds one, a window under it takes one away, so that
     * short dips in a long stall (a scheduling gap, a burst of progress) do not restart the clock. */
    state->stalled = f.stall_pct >= cfg->stall_budget_pct ? state->stalled + 1
                     : state->stalled > 0                 ? state->stalled - 1
                                                          : 0;
    /* Using no more than the floor over high, a group is at its threshold: the kernel barely
     * throttles it (its penalty starts at about 1.25 % over high), and a group hovering there, over
     * and under high by a few pages, shows no progress between two looks over it. Such a window ends
     * a run of windows without progress, as a window under high would; the knowledge rule spares
     * the band too (policy/episode.c). */
    uint64_t usage = memctl_progress_usage(cur);
    bool at_threshold = cfg->hover_band && (usage <= cur->high || usage - cur->high <= cfg->progress_floor);
    if (progress)
        state->stuck = cfg->stuck_leaky && state->stuck > 0 ? state->stuck - 1 : 0;
    else if (at_threshold)
        state->stuck = 0;
    else
        state->stuck++;

    if (state->stuck >= cfg->stuck_windows)
        return MEMCTL_VERDICT_NO_PROGRESS;
    if (cfg->stall_windows > 0 && state->stalled >= cfg->stall_windows)
        return MEMCTL_VERDICT_STALL;
    return progress ? MEMCTL_VERDICT_PROGRESS : MEMCTL_VERDICT_WAIT;
}

const char *memctl_verdict_name(MemctlVerdict v)
{
    static const char *const names[] = {
            [MEMCTL_VERDICT_CALM] = "calm",   [MEMCTL_VERDICT_PROGRESS] = "progress",
            [MEMCTL_VERDICT_WAIT] = "wait",   [MEMCTL_VERDICT_NO_PROGRESS] = "no-progress",
            [MEMCTL_VERDICT_STALL] = "stall",
    };
    return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "unknown";
}

bool memctl_verdict_is_kill(MemctlVerdict v)
{
    return v == MEMCTL_VERDICT_NO_PROGRESS || v == MEMCTL_VERDICT_STALL;
}
