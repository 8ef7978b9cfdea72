/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "policy/progress.h"

/*
 * The host guard's verdict (WHY.md §4, §5). Pure, never allocates: the core calls it when the host
 * has no free memory. The core samples the host once per window while it is armed (by a PSI event
 * on /proc/pressure/memory), and asks for a verdict on the last two samples.
 *
 * Two ways to a kill:
 *  - watermarks (WHY.md §4): a zone's free pages are substantially under its min watermark (below
 *    3/4 of it: a quarter of the reserve of atomic allocations is used up), or fall toward that
 *    faster than reclaim restores them (the next window at this rate ends below it), for
 *    `watermark_windows` windows in a row: atomic allocations are about to fail, whatever
 *    reclaim's progress;
 *  - progress (WHY.md §5): with MemAvailable below `available_min`, the same verdict as a group's
 *    (policy/progress.h) on the host's counters: reclaim net of what comes back, swap-out, freed
 *    memory, and the stall. What comes back is the file refaults plus every swap-in (pswpin), not
 *    only the anon refaults the kernel still has a shadow entry for: a thrashing workload reads
 *    back pages evicted long ago, and to zram with incompressible pages swap-out frees nothing,
 *    so only the swap-ins show that its "reclaim" is no progress. And swap to zram is paid in RAM:
 *    what zram holds grows as pages go out, so reclaim and swap-out count net of that growth (pages
 *    that compress well still free most of their memory; incompressible ones free none). A window counts
 * against progress only when some task waited for memory in it (PSI "some" grew): a host that is full but
 * idle needs no kill. With free swap left, the windows without progress must add up to the stall budget's
 * time (swap-out starts late: the kernel ages anon pages first); with none left, `stuck_windows` host windows
 * decide.
 *  - exhausted: MemAvailable below 1% of MemTotal (the kernel's own estimate: no free memory above
 *    the watermarks and no reclaimable cache), no free swap, and a task waiting for memory: no
 *    progress is possible, and waiting only lets the kernel's OOM killer choose (it fires within
 *    tens of milliseconds from there). The PSI event that arms the guard is such a wait.
 *  - calm: every zone above low and MemAvailable above available_min, or nobody waiting for
 *    memory for a second: the guard disarms until the next PSI event.
 */

#define MEMCTL_HOST_ZONES_MAX 32
#define MEMCTL_HOST_ZRAM_MAX 8

typedef struct {
    uint64_t free, min, low, high, managed; /* pages */
} MemctlZone;

typedef struct {
    uint64_t t_usec;                /* CLOCK_MONOTONIC */
    uint64_t total, available;      /* MemTotal, MemAvailable, bytes */
    uint64_t swap_total, swap_free; /* bytes */
    uint64_t pgsteal, pgscan;       /* /proc/vmstat, pages, cumulative (kswapd + direct + khugepaged) */
    uint64_t refault;               /* workingset_refault_anon + _file (or workingset_refault), pages */
    uint64_t refault_anon;          /* workingset_refault_anon (0 on kernels before 5.9), pages */
    uint64_t swapin;                /* pswpin: every page read back from swap, pages */
    uint64_t oom_kill;              /* the kernel's OOM kills since boot (vmstat oom_kill, 4.13+) */
    uint64_t zram_used;             /* RAM the zram swap devices hold (mm_stat mem_used_total), bytes */
    uint64_t zram_orig;             /* what they store (mm_stat orig_data_size), bytes */
    bool zram_only;                 /* every swap device is zram */
    uint64_t full_total_usec;       /* /proc/pressure/memory "full total=" */
    uint64_t some_total_usec;       /* /proc/pressure/memory "some total=" */
    uint32_t n_zones;
    MemctlZone zones[MEMCTL_HOST_ZONES_MAX];
} MemctlHostSample;

typedef struct {
    bool enabled;
    uint64_t available_min;     /* bytes; 0: available_min_pct of MemTotal */
    uint32_t available_min_pct; /* 1-50 */
    uint32_t watermark_windows; /* consecutive windows at or toward min before a kill */
    uint64_t window_usec;       /* sampling period while armed */
    uint64_t swap_room;         /* free swap (bytes) below which swap-out cannot be counted on */
    uint64_t stall_usec;        /* time over the stall budget (net of calmer windows) that kills even
                                 * while reclaim or swap-out still makes progress */
} MemctlHostConfig;

/* Defaults (docs/POLICY.md): enabled, 5 % of MemTotal, 2 windows of 10 ms, 10 s of stall. */
void memctl_host_config_default(MemctlHostConfig *c);

bool memctl_host_config_equal(const MemctlHostConfig *a, const MemctlHostConfig *b);

/* The MemAvailable threshold in bytes for a host with `total` bytes. */
uint64_t memctl_host_available_min(const MemctlHostConfig *c, uint64_t total);

typedef enum {
    MEMCTL_HOST_CALM,        /* enough available, every zone above low: disarm */
    MEMCTL_HOST_WATCH,       /* short of memory, but not (yet) a reason to kill */
    MEMCTL_HOST_WATERMARK,   /* kill: a zone is (about to be) below its min watermark */
    MEMCTL_HOST_NO_PROGRESS, /* kill: short of memory and nothing makes progress */
    MEMCTL_HOST_STALL,       /* kill: short of memory and stalling over the budget */
    MEMCTL_HOST_EXHAUSTED,   /* kill: nothing left to reclaim or swap to, and tasks wait */
} MemctlHostVerdict;

/* What zram stored and held at one sample (bytes): the ratio of what goes out now is measured
 * between two of them. */
typedef struct {
    uint64_t orig, used;
} MemctlZramPoint;
#define MEMCTL_HOST_ZRAM_HISTORY 32
#define MEMCTL_HOST_ZRAM_RECENT (8ull << 20)    /* stored since a point, for a ratio of the recent pages */
#define MEMCTL_HOST_ZRAM_MEASURED (16ull << 20) /* stored in all, for a ratio of everything */

typedef struct {
    uint32_t breach;    /* consecutive windows at or toward a min watermark */
    uint64_t idle_usec; /* time since a task last waited for memory */
    MemctlProgressState progress;
    /* The host PSI trigger fired in this episode: tasks really stalled. Until it has, the verdicts on
     * measured progress (no-progress, stall) do not kill: the watch arms the guard early, and a
     * workload still growing into the last few percent may yet fit. Knowledge (watermarks,
     * exhaustion) kills without it. The core sets it; a calm verdict clears it. */
    bool stall_seen;
    /* zram's figures at the episode's last samples (a ring; n_zram of them, the newest at
     * zram_next - 1), noted by memctl_host_decide() */
    MemctlZramPoint zram[MEMCTL_HOST_ZRAM_HISTORY];
    uint32_t n_zram, zram_next;
} MemctlHostState;

typedef struct {
    MemctlProgressFigures progress;
    uint32_t zone;      /* the zone closest to its min watermark */
    uint64_t zone_free; /* its free pages */
    uint64_t zone_min;  /* its min watermark */
    int64_t zone_delta; /* change of its free pages over the window */
    uint64_t available; /* MemAvailable, bytes */
} MemctlHostFigures;

/*
 * The group verdict's settings rescaled to the host window: the same progress floor per unit of
 * time, the same stall share, the same stuck_windows; stall_windows is the group's stall budget in
 * time (stall_windows x window): how long the host may go without progress while swap is free.
 * The stall that kills despite progress is the host's own, stall_usec.
 */
void memctl_host_progress_config(const MemctlHostConfig *c, const MemctlProgressConfig *group,
                                 MemctlProgressConfig *ret);

/* The progress sample the verdict uses for the host: used = total - available, "high" the point
 * at which available falls below available_min. */
void memctl_host_progress_sample(const MemctlHostSample *s, const MemctlHostConfig *c, uint64_t page_size,
                                 MemctlProgressSample *ret);

MemctlHostVerdict memctl_host_decide(const MemctlHostSample *prev, const MemctlHostSample *cur,
                                     const MemctlHostConfig *cfg, const MemctlProgressConfig *pcfg,
                                     uint64_t page_size, MemctlHostState *state,
                                     MemctlHostFigures *ret_figures);

/* Windows over the stall budget (net) that kill even with progress: stall_usec in windows. */
uint32_t memctl_host_stall_windows(const MemctlHostConfig *c);

/*
 * The free swap that swap-out can still free RAM with: all of it, except when every swap device is
 * zram, where each byte swapped out frees only what compression saves (pages that do not compress:
 * nothing). The saving is measured on the pages stored lately when st has seen 8 MiB go out
 * (MEMCTL_HOST_ZRAM_RECENT) within its last samples: what goes out now, not the other processes'
 * pages that compressed well before a workload that does not compress started to swap; otherwise on
 * everything stored, once that is 16 MiB; otherwise it is not known and all the free swap counts.
 * st may be NULL (no history).
 */
uint64_t memctl_host_swap_useful(const MemctlHostSample *s, const MemctlHostState *st);

/* True if s shows a host with nothing left to reclaim and no swap to write to (see above; swap that
 * frees nothing, memctl_host_swap_useful(), is none). The
 * verdict kills for it when a task waited for memory in the window, or when MemAvailable still
 * fell: someone is allocating with nothing left to reclaim, and direct reclaim (the stall) comes
 * next. */
bool memctl_host_exhausted(const MemctlHostSample *s, const MemctlHostConfig *c, const MemctlHostState *st);

/*
 * The watch between episodes (WHY.md §4: act before the watermarks, not after the stall). The PSI
 * trigger arms the guard only once a task has stalled; the watch glances at MemAvailable (one read of
 * /proc/meminfo) at a period that shrinks with the headroom left above available_min at the fill
 * rate measured between glances (never faster than the guard's window, never slower than
 * MEMCTL_HOST_WATCH_MAX_USEC: at most 60 wake-ups a minute while memory is plentiful), and arms the
 * guard when the host is below available_min and still filling, or will be by the next glance.
 */
#define MEMCTL_HOST_WATCH_MAX_USEC (1000 * 1000)
#define MEMCTL_HOST_WATCH_IDLE_USEC (250 * 1000)   /* below available_min but not filling */
#define MEMCTL_HOST_WATCH_RATE_FLOOR (64ull << 20) /* bytes/s assumed when nothing is measured */

typedef struct {
    uint64_t t_usec;           /* CLOCK_MONOTONIC */
    uint64_t total, available; /* MemTotal, MemAvailable, bytes */
} MemctlHostGlance;

/* prev: the last glance (NULL: none yet). Returns true when the guard must arm now; otherwise
 * *ret_next_usec says when to glance again. */
bool memctl_host_watch(const MemctlHostGlance *prev, const MemctlHostGlance *cur, const MemctlHostConfig *cfg,
                       uint64_t *ret_next_usec);

const char *memctl_host_verdict_name(MemctlHostVerdict v);
bool memctl_host_verdict_is_kill(MemctlHostVerdict v);
