/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "policy/progress.h"

/*
 * The host guard's verdict (seeds 003, 004). Pure, never allocates: the core calls it when the host
 * has no free memory. The core samples the host once per window while it is armed (by a PSI event
 * on /proc/pressure/memory), and asks for a verdict on the last two samples.
 *
 * Two ways to a kill:
 *  - watermarks (seed 003): a zone's free pages are below its min watermark, or fall toward it
 *    faster than reclaim restores them (the next window at this rate ends below min), for
 *    `watermark_windows` windows in a row: atomic allocations are about to fail, whatever
 *    reclaim's progress;
 *  - progress (seed 004): with MemAvailable below `available_min`, the same verdict as a group's
 *    (policy/progress.h) on the host's counters: reclaim net of refaults, swap-out, freed memory,
 *    and the full stall.
 */

#define MEMCTL_HOST_ZONES_MAX 32

typedef struct {
    uint64_t free, min, low, high, managed; /* pages */
} MemctlZone;

typedef struct {
    uint64_t t_usec;                /* CLOCK_MONOTONIC */
    uint64_t total, available;      /* MemTotal, MemAvailable, bytes */
    uint64_t swap_total, swap_free; /* bytes */
    uint64_t pgsteal, pgscan;       /* /proc/vmstat, pages, cumulative (kswapd + direct + khugepaged) */
    uint64_t refault;               /* workingset_refault_anon + _file (or workingset_refault), pages */
    uint64_t full_total_usec;       /* /proc/pressure/memory "full total=" */
    uint32_t n_zones;
    MemctlZone zones[MEMCTL_HOST_ZONES_MAX];
} MemctlHostSample;

typedef struct {
    bool enabled;
    uint64_t available_min;     /* bytes; 0: available_min_pct of MemTotal */
    uint32_t available_min_pct; /* 1-50 */
    uint32_t watermark_windows; /* consecutive windows at or toward min before a kill */
} MemctlHostConfig;

/* Defaults (docs/POLICY.md): enabled, 5 % of MemTotal, 2 windows. */
void memctl_host_config_default(MemctlHostConfig *c);

/* The MemAvailable threshold in bytes for a host with `total` bytes. */
uint64_t memctl_host_available_min(const MemctlHostConfig *c, uint64_t total);

typedef enum {
    MEMCTL_HOST_CALM,        /* enough available, every zone above low: disarm */
    MEMCTL_HOST_WATCH,       /* short of memory, but not (yet) a reason to kill */
    MEMCTL_HOST_WATERMARK,   /* kill: a zone is (about to be) below its min watermark */
    MEMCTL_HOST_NO_PROGRESS, /* kill: short of memory and nothing makes progress */
    MEMCTL_HOST_STALL,       /* kill: short of memory and stalling over the budget */
} MemctlHostVerdict;

typedef struct {
    uint32_t breach; /* consecutive windows at or toward a min watermark */
    MemctlProgressState progress;
} MemctlHostState;

typedef struct {
    MemctlProgressFigures progress;
    uint32_t zone;      /* the zone closest to its min watermark */
    uint64_t zone_free; /* its free pages */
    uint64_t zone_min;  /* its min watermark */
    int64_t zone_delta; /* change of its free pages over the window */
    uint64_t available; /* MemAvailable, bytes */
} MemctlHostFigures;

/* The progress sample the verdict uses for the host: used = total - available, "high" the point
 * at which available falls below available_min. */
void memctl_host_progress_sample(const MemctlHostSample *s, const MemctlHostConfig *c,
                                 MemctlProgressSample *ret);

MemctlHostVerdict memctl_host_decide(const MemctlHostSample *prev, const MemctlHostSample *cur,
                                     const MemctlHostConfig *cfg, const MemctlProgressConfig *pcfg,
                                     uint64_t page_size, MemctlHostState *state,
                                     MemctlHostFigures *ret_figures);

const char *memctl_host_verdict_name(MemctlHostVerdict v);
bool memctl_host_verdict_is_kill(MemctlHostVerdict v);
