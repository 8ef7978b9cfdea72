/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * Proactive reclaim paced by pressure (docs/POLICY.md, "Right-sizing"): a group with reclaim=auto
 * is asked, once an interval, to give back a step of the memory it holds above its floor, through
 * memory.reclaim, for as long as the stall its tasks pay for it (the "some" share of its
 * memory.pressure over the interval) stays under the group's target. The step grows while the
 * stall stays well under target and stops, at once and halved, when it reaches the target: the
 * refaults that cost the stall bring the memory back by themselves (memory.reclaim sets no limit).
 * The usage at which the target just holds is the group's working set.
 *
 * A step whose memory comes back, half of it or more refaulted within the next interval, cut into
 * the working set too, whatever the stall says: with the multi-gen LRU (on by default in many
 * kernels from 6.1), a refault is counted as a memory stall only once the page has been refaulted
 * often enough to be marked workingset, so a group can refault its hot set every second at a stall
 * of zero (docs/POLICY.md, "Right-sizing").
 *
 * Once measured, the working set is where steps stop: a step that would go below it is cut to what
 * is above it, except a probe of the least step every MEMCTL_PROACTIVE_PROBE_EVERY intervals, so
 * that the refaults, and their stall, are paid once in that many intervals and not every other one.
 *
 * Pure: the caller samples the group, asks for the step, writes it, and says what it freed.
 */

/* The step, in 1/1024 of what the group holds above its floor (and reclaim could take). */
#define MEMCTL_PROACTIVE_STEP_MIN 16  /* 1.6%: where it starts, and where a breach takes it back */
#define MEMCTL_PROACTIVE_STEP_MAX 256 /* 25% */
/* Once the working set is measured, steps stop at it; every this many intervals one step of the
 * least size (at least MEMCTL_PROACTIVE_MIN_BYTES) may go below it (a probe: the working set may
 * have shrunk). */
#define MEMCTL_PROACTIVE_PROBE_EVERY 5
/* Below this, no write: a memory.reclaim costs a scan of the LRUs whatever it asks for. */
#define MEMCTL_PROACTIVE_MIN_BYTES (1ull << 20)

typedef struct {
    uint32_t target_ppm; /* the stall share the group may pay: "some" microseconds a second */
    uint64_t floor;      /* never below: max(memory.min, memory.low, reclaim_floor) */
    bool hold;           /* measure and estimate, ask for nothing (the host guard is armed, the group
                          * is over high or critical) */
} MemctlProactiveConfig;

typedef struct {
    uint64_t t_usec;     /* CLOCK_MONOTONIC */
    uint64_t some_usec;  /* memory.pressure "some" total */
    uint64_t current;    /* memory.current */
    uint64_t could_free; /* what reclaim could take now (policy/reclaim.h): swap-aware */
    uint64_t refaulted;  /* memory.stat workingset_refault_anon + _file, in bytes: a counter */
} MemctlProactiveSample;

typedef struct {
    bool primed;   /* a first sample was seen */
    bool known;    /* the target was reached once: workingset is a measure, not a bound */
    bool stepped;  /* the last interval asked for a step */
    uint32_t step; /* 1/1024ths, MEMCTL_PROACTIVE_STEP_MIN .. _MAX */
    uint64_t last_t, last_some, last_refaulted;
    uint64_t last_freed;  /* what the last step gave back, as the caller measured it */
    uint64_t workingset;  /* bytes; 0 before the first interval */
    uint64_t stall_usec;  /* "some" stall over the intervals that followed a step: what reclaim
                           * cost the group, at most */
    uint64_t reclaimed;   /* bytes given back, as the caller measured them */
    uint32_t breaches;    /* intervals at or over the target, or that refaulted a step */
    uint32_t since_probe; /* intervals since the last step below the working set, or breach */
} MemctlProactive;

void memctl_proactive_init(MemctlProactive *p);

/*
 * One interval: the stall share since the last sample is measured, the working set updated, and
 * the bytes to ask memory.reclaim for returned (0: none this interval; always 0 for the first
 * sample, which only primes). A sample older than the last (a clock that went back, a caller's
 * mistake) primes again.
 */
uint64_t memctl_proactive_next(MemctlProactive *p, const MemctlProactiveConfig *cfg,
                               const MemctlProactiveSample *s);

/* The caller's count of what a step gave back (memory.current before less after, 0 if it rose). */
void memctl_proactive_reclaimed(MemctlProactive *p, uint64_t bytes);

/* A limit to suggest from the working set: it plus a headroom of 25%, at least 16 MiB, rounded
 * up to a MiB. 0 before the first interval. */
uint64_t memctl_proactive_suggest(const MemctlProactive *p);
