/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "daemon/core/api.h"
#include "daemon/group/group.h"

/*
 * Proactive reclaim (docs/POLICY.md, "Right-sizing"): for the groups with reclaim=auto, once an
 * interval, the controller of policy/proactive.h is given a sample (memory.pressure's "some" total,
 * memory.current, what memory.stat says reclaim could take) and the step it asks for is written to
 * the group's memory.reclaim (Linux 5.19) on a worker thread: the write reclaims in the writer's
 * context for as long as it takes, so neither the core nor the main loop ever makes it.
 *
 * Nothing is asked of a group that is registered critical (or below one), over its memory.high (the
 * kill path owns it), or of any group while the host guard is armed; such a group is still sampled
 * (its working set stays known). No timer runs while no group has reclaim=auto. GLib side; logs
 * (top-level code).
 */
typedef struct MemctlReclaimer MemctlReclaimer;
struct MemctlCritical;

#define MEMCTL_RECLAIM_INTERVAL_DEFAULT_MS 6000 /* senpai's */

/* proc: the procfs mount (the host's free swap). critical may be NULL. */
MemctlReclaimer *memctl_reclaimer_new(MemctlGroups *groups, MemctlCore *core, struct MemctlCritical *critical,
                                      const char *proc);
/* Waits for a step being written, then lets everything go. */
void memctl_reclaimer_free(MemctlReclaimer *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MemctlReclaimer, memctl_reclaimer_free)

/* The interval between samples (ms); the next one is scheduled afresh. */
void memctl_reclaimer_set_interval(MemctlReclaimer *r, uint32_t ms);
/* After a change of the groups or their settings: once the main loop is idle, starts the timer
 * when a group has reclaim=auto, stops it when none has; a group whose reclaim went off forgets its
 * state. */
void memctl_reclaimer_update(MemctlReclaimer *r);

/* What the reclaimer has done since it started (metrics). */
typedef struct {
    uint64_t intervals; /* samples taken */
    uint64_t steps;     /* memory.reclaim writes */
    uint64_t busy_usec; /* time spent writing them (the worker thread's wall time) */
    bool unsupported;   /* the kernel has no memory.reclaim: nothing is written */
} MemctlReclaimerStats;
void memctl_reclaimer_stats(const MemctlReclaimer *r, MemctlReclaimerStats *ret);
