/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * The kill decision for a group over memory.high, made on measured forward progress (WHY.md §1, §5):
 * never on a timer, never on low free memory alone. The core samples the group once per decision
 * window while (and only while) it is over high, and asks for a verdict on the last two samples.
 */

typedef struct {
    uint64_t t_usec;          /* CLOCK_MONOTONIC */
    uint64_t current;         /* memory.current, bytes */
    uint64_t high;            /* the memory.high in force, bytes */
    uint64_t pgsteal;         /* memory.stat pgsteal: pages reclaimed, cumulative */
    uint64_t pgscan;          /* memory.stat pgscan: pages scanned, cumulative */
    uint64_t swap_current;    /* memory.swap.current, bytes (0 without swap) */
    uint64_t full_total_usec; /* memory.pressure "full total=", cumulative */
    uint64_t refault;         /* memory.stat workingset_refault_anon + _file: pages, cumulative */
    uint64_t reclaimable;     /* what reclaim could free now (policy/reclaim.h); UINT64_MAX: unknown */
    uint64_t ahead;           /* memory.current less what memory.stat says the group uses (anon + file
                               * + kernel + sock, kernel/sample.h): charged ahead of use; 0: none known */
} MemctlProgressSample;

/* The usage an overage is measured on: memory.current less what is charged ahead of use. A huge
 * page khugepaged is collapsing pages into is charged before it is mapped, and the pages it replaces
 * are freed after: for a moment memory.current is 2 MiB over what the group uses, and then it is
 * not. That moment is no overage the group is heading to. */
static inline uint64_t memctl_progress_usage(const MemctlProgressSample *x)
{
    return x->ahead < x->current ? x->current - x->ahead : 0;
}

typedef struct {
    uint64_t window_usec;      /* time between samples while over high */
    uint32_t stuck_windows;    /* consecutive windows without progress before a kill */
    uint64_t progress_floor;   /* bytes reclaimed (or swapped out, or freed) per window that count */
    uint32_t stall_budget_pct; /* full-stall share of a window (0-100) that counts as stalling */
    uint32_t stall_windows;    /* stalling windows (net of calm ones) before a kill, even with progress */
    bool stuck_leaky;          /* count windows without progress net of windows with it, instead of in
                                * a row (the host's short windows: one burst of noise must not reset) */
    bool hover_band;           /* a group whose usage (memctl_progress_usage()) is over high by no more
                                * than progress_floor is at its threshold: such a window is no window
                                * without progress (groups; the host clears it) */
} MemctlProgressConfig;

/* Defaults (documented in docs/POLICY.md): 50 ms, 2, 1 MiB, 60 %, 20 (one second of thrashing), the
 * hover band on. */
void memctl_progress_config_default(MemctlProgressConfig *c);

typedef enum {
    MEMCTL_VERDICT_CALM,        /* at or below high: nothing to do, stop sampling */
    MEMCTL_VERDICT_PROGRESS,    /* over high, but reclaim/swap/exits make progress */
    MEMCTL_VERDICT_WAIT,        /* over high without progress, not yet for long enough */
    MEMCTL_VERDICT_NO_PROGRESS, /* kill: stuck_windows without progress */
    MEMCTL_VERDICT_STALL,       /* kill: stall_windows over the stall budget */
} MemctlVerdict;

typedef struct {
    uint32_t stuck;   /* windows without progress: in a row, or net of progress ones (stuck_leaky) */
    uint32_t stalled; /* windows over the stall budget, less windows under it (never below 0) */
} MemctlProgressState;

/* What a verdict was based on, for the kill record. */
typedef struct {
    uint64_t dt_usec;
    uint64_t reclaimed_bytes;   /* pgsteal delta in bytes */
    uint64_t refaulted_bytes;   /* refault delta in bytes: reclaim that was undone (thrashing) */
    uint64_t swapped_bytes;     /* swap_current growth */
    uint64_t freed_bytes;       /* memory.current fall */
    uint32_t stall_pct;         /* full stall share of the window */
    uint64_t reclaimable_bytes; /* what reclaim could still free at the decision (UINT64_MAX: unknown) */
} MemctlProgressFigures;

/*
 * Verdict for `cur` given the previous sample. Updates *state; fills *ret_figures if given.
 * page_size converts pgsteal into bytes.
 */
MemctlVerdict memctl_progress_decide(const MemctlProgressSample *prev, const MemctlProgressSample *cur,
                                     const MemctlProgressConfig *cfg, uint64_t page_size,
                                     MemctlProgressState *state, MemctlProgressFigures *ret_figures);

const char *memctl_verdict_name(MemctlVerdict v);
bool memctl_verdict_is_kill(MemctlVerdict v);
