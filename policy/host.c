/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy/host.h"

#include <stddef.h>

void memctl_host_config_default(MemctlHostConfig *c)
{
    c->enabled = true;
    c->available_min = 0;
    c->available_min_pct = 5;
    c->watermark_windows = 2;
    c->window_usec = 10 * 1000;
    c->swap_room = 16ull << 20;
    c->stall_usec = 10ull * 1000 * 1000;
}

bool memctl_host_config_equal(const MemctlHostConfig *a, const MemctlHostConfig *b)
{
    return a->enabled == b->enabled && a->available_min == b->available_min &&
           a->available_min_pct == b->available_min_pct && a->watermark_windows == b->watermark_windows &&
           a->window_usec == b->window_usec && a->swap_room == b->swap_room && a->stall_usec == b->stall_usec;
}

uint32_t memctl_host_stall_windows(const MemctlHostConfig *c)
{
    if (c->stall_usec == 0)
        return 0;
    uint64_t n = c->window_usec > 0 ? c->stall_usec / c->window_usec : 1;
    return n == 0 ? 1 : n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

void memctl_host_progress_config(const MemctlHostConfig *c, const MemctlProgressConfig *group,
                                 MemctlProgressConfig *ret)
{
    MemctlProgressConfig p = *group;
    if (c->window_usec > 0 && group->window_usec > 0) {
        p.window_usec = c->window_usec;
        p.progress_floor = group->progress_floor * c->window_usec / group->window_usec;
        if (p.progress_floor == 0)
            p.progress_floor = 1;
        uint64_t sw = (uint64_t)group->stall_windows * group->window_usec / c->window_usec;
        p.stall_windows = group->stall_windows == 0 ? 0 : sw > 0 ? (uint32_t)sw : 1;
    }
    *ret = p;
}

uint64_t memctl_host_available_min(const MemctlHostConfig *c, uint64_t total)
{
    if (c->available_min > 0)
        return c->available_min;
    return total / 100 * c->available_min_pct;
}

void memctl_host_progress_sample(const MemctlHostSample *s, const MemctlHostConfig *c, uint64_t page_size,
                                 MemctlProgressSample *ret)
{
    uint64_t amin = memctl_host_available_min(c, s->total);
    /* Pages that came back: file refaults, and anon ones counted by swap-ins (each anon refault is
     * a swap-in; not each swap-in is a refault). Both counters only grow, so their max does too. */
    uint64_t anon = s->swapin > s->refault_anon ? s->swapin : s->refault_anon;
    uint64_t file = s->refault > s->refault_anon ? s->refault - s->refault_anon : 0;
    /* Swap that lives in RAM (zram) frees only what compression saves: its growth comes back as
     * if it had refaulted, and swap used counts net of it. */
    uint64_t zram_pages = page_size > 0 ? s->zram_used / page_size : 0;
    uint64_t swap_used = s->swap_total > s->swap_free ? s->swap_total - s->swap_free : 0;
    MemctlProgressSample x = {
            .t_usec = s->t_usec,
            .current = s->total > s->available ? s->total - s->available : 0,
            .high = s->total > amin ? s->total - amin : 0,
            .pgsteal = s->pgsteal,
            .pgscan = s->pgscan,
            .swap_current = swap_used > s->zram_used ? swap_used - s->zram_used : 0,
            /* the host's stall is "some": other runnable work (memctld's own core, a bystander)
             * keeps "full" low even while the workload that needs memory makes no progress */
            .full_total_usec = s->some_total_usec,
            .refault = file + anon + zram_pages,
    };
    *ret = x;
}

/* Zones that matter: populated ones with a watermark (the kernel gives empty zones min 0). */
static bool zone_counts(const MemctlZone *z)
{
    return z->managed > 0 && z->min > 0;
}

/* The zone closest to (or furthest below) its min watermark, or n if none counts. */
static uint32_t worst_zone(const MemctlHostSample *s)
{
    uint32_t best = s->n_zones;
    int64_t best_margin = 0;
    for (uint32_t i = 0; i < s->n_zones && i < MEMCTL_HOST_ZONES_MAX; i++) {
        const MemctlZone *z = &s->zones[i];
        if (!zone_counts(z))
            continue;
        int64_t margin = (int64_t)z->free - (int64_t)z->min;
        if (best == s->n_zones || margin < best_margin) {
            best = i;
            best_margin = margin;
        }
    }
    return best;
}

static bool any_zone_below_low(const MemctlHostSample *s)
{
    for (uint32_t i = 0; i < s->n_zones && i < MEMCTL_HOST_ZONES_MAX; i++)
        if (zone_counts(&s->zones[i]) && s->zones[i].free < s->zones[i].low)
            return true;
    return false;
}

/* Notes zram's figures in st's ring (the oldest goes). */
static void zram_note(MemctlHostState *st, const MemctlHostSample *s)
{
    if (!s->zram_only)
        return;
    st->zram[st->zram_next] = (MemctlZramPoint){.orig = s->zram_orig, .used = s->zram_used};
    st->zram_next = (st->zram_next + 1) % MEMCTL_HOST_ZRAM_HISTORY;
    if (st->n_zram < MEMCTL_HOST_ZRAM_HISTORY)
        st->n_zram++;
}

/* The share of each byte stored that zram saves, from `stored` bytes given and `held` bytes of RAM
 * it took for them; 0 when it took as much or more. */
static double zram_saving(uint64_t stored, uint64_t held)
{
    return held >= stored ? 0.0 : 1.0 - (double)held / (double)stored;
}

MemctlHostVerdict memctl_host_decide(const MemctlHostSample *prev, const MemctlHostSample *cur,
                                     const MemctlHostConfig *cfg, const MemctlProgressConfig *pcfg,
                                     uint64_t page_size, MemctlHostState *state,
                                     MemctlHostFigures *ret_figures)
{
    MemctlHostFigures f = {.available = cur->available, .zone = cur->n_zones};
    zram_note(state, cur);
    MemctlProgressSample pp, pc;
    memctl_host_progress_sample(prev, cfg, page_size, &pp);
    memctl_host_progress_sample(cur, cfg, page_size, &pc);
    MemctlProgressState pst = state->progress;
    /* Free swap means swap-out can still bring progress, and it starts late (the kernel ages anon
     * pages first): windows without progress must add up to the stall budget's time. A host that
     * stalls but makes progress (swap-out to a slow device, WHY.md §5) is not livelocked: only the
     * host's own, longer stall time kills it. */
    MemctlProgressConfig pc_eff = *pcfg;
    if (memctl_host_swap_useful(cur, state) >= cfg->swap_room && pcfg->stall_windows > pc_eff.stuck_windows)
        pc_eff.stuck_windows = pcfg->stall_windows;
    pc_eff.stall_windows = memctl_host_stall_windows(cfg);
    /* 10 ms windows are short enough that a burst of file reclaim or swap-out now and then would
     * restart a count in a row, while the workload as a whole gets nowhere (measured in the VM: a
     * workload thrashing on 1 GiB of zram was never a second in a row without progress, and only
     * the watermarks stopped it, after 5-7 s). */
    pc_eff.stuck_leaky = true;
    pc_eff.hover_band = false; /* the host's "high" is total less available_min: no band below it */
    MemctlVerdict pv = memctl_progress_decide(&pp, &pc, &pc_eff, page_size, &pst, &f.progress);
    bool waited =
            cur->some_total_usec > prev->some_total_usec || cur->full_total_usec > prev->full_total_usec;
    uint64_t dt = cur->t_usec > prev->t_usec ? cur->t_usec - prev->t_usec : 0;

    /* Watermarks: the worst zone now, and where it is heading at this window's rate. */
    bool breach = false;
    uint32_t z = worst_zone(cur);
    if (z < cur->n_zones) {
        const MemctlZone *zc = &cur->zones[z];
        f.zone = z;
        f.zone_free = zc->free;
        f.zone_min = zc->min;
        if (z < prev->n_zones)
            f.zone_delta = (int64_t)zc->free - (int64_t)prev->zones[z].free;
        /* "Substantially under" min (WHY.md §4): a quarter of the atomic reserve is gone. Dips just
         * below min are normal while direct reclaim and swap-out get going. */
        int64_t floor = (int64_t)(zc->min - zc->min / 4);
        if ((int64_t)zc->free < floor)
            breach = f.zone_delta <= 0; /* under it and not recovering */
        else if (zc->free < zc->low && f.zone_delta < 0)
            breach = (int64_t)zc->free + f.zone_delta < floor; /* there within a window */
    }
    if (ret_figures)
        *ret_figures = f;

    if (pv == MEMCTL_VERDICT_CALM && !breach && !any_zone_below_low(cur)) {
        *state = (MemctlHostState){0};
        return MEMCTL_HOST_CALM;
    }
    state->breach = breach ? state->breach + 1 : 0;
    if (cfg->watermark_windows > 0 && state->breach >= cfg->watermark_windows)
        return MEMCTL_HOST_WATERMARK;
    bool filling = cur->available < prev->available;
    if ((waited || filling) && memctl_host_exhausted(cur, cfg, state))
        return MEMCTL_HOST_EXHAUSTED;
    if (dt > 0 && !waited) {
        /* Nobody waited for memory in this window: no evidence either way. A second of that while
         * no zone is in danger ends the episode. */
        state->idle_usec += dt;
        pst.stuck = state->progress.stuck;
        pst.stalled = 0;
        state->progress = pst;
        if (!breach && state->idle_usec >= 1000 * 1000) {
            *state = (MemctlHostState){0};
            return MEMCTL_HOST_CALM;
        }
        return MEMCTL_HOST_WATCH;
    }
    if (dt > 0)
        state->idle_usec = 0;
    if (pv == MEMCTL_VERDICT_CALM) {
        /* Enough available memory overall: only the watermarks may call for a kill. */
        state->progress = (MemctlProgressState){0};
        return MEMCTL_HOST_WATCH;
    }
    state->progress = pst;
    if (!state->stall_seen)
        return MEMCTL_HOST_WATCH; /* no stall worth a PSI event yet: it may still fit */
    if (pv == MEMCTL_VERDICT_NO_PROGRESS)
        return MEMCTL_HOST_NO_PROGRESS;
    if (pv == MEMCTL_VERDICT_STALL)
        return MEMCTL_HOST_STALL;
    return MEMCTL_HOST_WATCH;
}

uint64_t memctl_host_swap_useful(const MemctlHostSample *s, const MemctlHostState *st)
{
    if (!s->zram_only)
        return s->swap_free;
    double saving = -1;
    /* the newest point with 8 MiB stored since: the pages going out now */
    for (uint32_t k = 1; st && k <= st->n_zram && saving < 0; k++) {
        const MemctlZramPoint *p =
                &st->zram[(st->zram_next + MEMCTL_HOST_ZRAM_HISTORY - k) % MEMCTL_HOST_ZRAM_HISTORY];
        if (s->zram_orig >= p->orig + MEMCTL_HOST_ZRAM_RECENT)
            saving = zram_saving(s->zram_orig - p->orig, s->zram_used > p->used ? s->zram_used - p->used : 0);
    }
    if (saving < 0 && s->zram_orig >= MEMCTL_HOST_ZRAM_MEASURED)
        saving = zram_saving(s->zram_orig, s->zram_used);
    if (saving < 0)
        return s->swap_free;
    return (uint64_t)((double)s->swap_free * saving);
}

bool memctl_host_exhausted(const MemctlHostSample *s, const MemctlHostConfig *c, const MemctlHostState *st)
{
    return s->total > 0 && s->available < s->total / 100 && memctl_host_swap_useful(s, st) < c->swap_room;
}

bool memctl_host_watch(const MemctlHostGlance *prev, const MemctlHostGlance *cur, const MemctlHostConfig *cfg,
                       uint64_t *ret_next_usec)
{
    uint64_t amin = memctl_host_available_min(cfg, cur->total);
    uint64_t dt = prev && cur->t_usec > prev->t_usec ? cur->t_usec - prev->t_usec : 0;
    uint64_t fell = prev && prev->available > cur->available ? prev->available - cur->available : 0;
    double rate = dt > 0 ? (double)fell * 1e6 / (double)dt : 0; /* bytes per second, measured */
    double min_usec = cfg->window_usec > 0 ? (double)cfg->window_usec : 10000;
    if (cur->available <= amin) {
        if (fell > 0)
            return true; /* short of memory, and someone is still taking it */
        *ret_next_usec = MEMCTL_HOST_WATCH_IDLE_USEC;
        return false;
    }
    double headroom = (double)(cur->available - amin);
    /* At the measured rate, below available_min within two of the guard's windows: arm now. */
    if (rate > 0 && headroom / rate * 1e6 < 2 * min_usec)
        return true;
    /* Half the time the headroom lasts at that rate (or the floor's): two glances before it is gone. */
    double r = rate > (double)MEMCTL_HOST_WATCH_RATE_FLOOR ? rate : (double)MEMCTL_HOST_WATCH_RATE_FLOOR;
    double next = headroom / r * 1e6 / 2;
    *ret_next_usec = next < min_usec                     ? (uint64_t)min_usec
                     : next > MEMCTL_HOST_WATCH_MAX_USEC ? MEMCTL_HOST_WATCH_MAX_USEC
                                                         : (uint64_t)next;
    return false;
}

const char *memctl_host_verdict_name(MemctlHostVerdict v)
{
    static const char *const names[] = {
            [MEMCTL_HOST_CALM] = "calm",
            [MEMCTL_HOST_WATCH] = "watch",
            [MEMCTL_HOST_WATERMARK] = "host-watermark",
            [MEMCTL_HOST_NO_PROGRESS] = "host-no-progress",
            [MEMCTL_HOST_STALL] = "host-stall",
            [MEMCTL_HOST_EXHAUSTED] = "host-exhausted",
    };
    return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "unknown";
}

bool memctl_host_verdict_is_kill(MemctlHostVerdict v)
{
    return v == MEMCTL_HOST_WATERMARK || v == MEMCTL_HOST_NO_PROGRESS || v == MEMCTL_HOST_STALL ||
           v == MEMCTL_HOST_EXHAUSTED;
}
