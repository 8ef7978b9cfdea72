/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * A dry run's shadow (docs/POLICY.md, "Dry run"): memctld decided a kill and recorded the victim it
 * would have chosen, killed nobody, and now watches what happens without it, so that an operator can
 * score its judgment on real workloads. The shadow settles at the first of: the kernel's OOM killer
 * killed (the group's oom_kill moved, or for the host guard /proc/vmstat's), the group or the host
 * came back to calm on its own, or MEMCTL_SHADOW_WATCH_USEC passed with neither. Pure: the core
 * tells what it saw.
 */

#define MEMCTL_SHADOW_WATCH_USEC 10000000ull

typedef enum {
    MEMCTL_SHADOW_NONE,          /* not settled (or no shadow) */
    MEMCTL_SHADOW_KERNEL_KILLED, /* the kernel killed: memctld's verdict was confirmed */
    MEMCTL_SHADOW_RECOVERED,     /* back under high (the host: calm) without a kill */
    MEMCTL_SHADOW_STILL_STUCK,   /* neither, after MEMCTL_SHADOW_WATCH_USEC */
} MemctlShadowOutcome;

typedef struct {
    bool active;
    uint64_t t_start; /* CLOCK_MONOTONIC of the verdict */
} MemctlShadow;

void memctl_shadow_start(MemctlShadow *s, uint64_t now);

/* What the watch saw at `now`: the kernel killed since the start, and whether it is calm now. When
 * this settles the shadow (not MEMCTL_SHADOW_NONE) it is over: the next verdict starts another. */
MemctlShadowOutcome memctl_shadow_settle(MemctlShadow *s, uint64_t now, bool kernel_killed, bool calm);

/* "kernel-killed", "recovered", "still-stuck"; "pending" for MEMCTL_SHADOW_NONE. */
const char *memctl_shadow_outcome_name(MemctlShadowOutcome o);
