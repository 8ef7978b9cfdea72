/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * What reclaim could free in a group, known from its counters rather than learnt by waiting
 * (WHY.md §1: knowledge, not timers). When a group is over memory.high and everything the kernel
 * could reclaim from it cannot bring it back under, no decision window can show progress: the
 * kernel only throttles the group's tasks, the bystanders included, until memory.max. Then the
 * core kills at once. When it could, the progress verdict decides as before (WHY.md §5: slow swap
 * still progresses).
 *
 * What counts (an over-estimate where in doubt: a wrong "could" costs two windows, a wrong
 * "could not" costs a process):
 *  - file pages: the inactive file LRU, and the active one net of mapped pages (a page mapped and
 *    active is in use: reclaiming it refaults at once);
 *  - reclaimable slab (dentries, inodes);
 *  - anonymous pages (shmem included: both are on the anon LRU) as far as swap takes them: the
 *    group's memory.swap.max less memory.swap.current, and the host's free swap. zram counts as
 *    swap here: what it holds is not charged to the group (the host guard counts its cost to the
 *    host). Not counted: MADV_FREE pages (no counter says how many there are) and zswap's
 *    compressed copies (charged to the group; zswap is off by default on Debian).
 */

typedef struct {
    uint64_t inactive_file, active_file, file_mapped; /* memory.stat, bytes */
    uint64_t inactive_anon, active_anon;              /* memory.stat, bytes */
    uint64_t slab_reclaimable;                        /* memory.stat, bytes */
    uint64_t swap_current, swap_max;                  /* the group's; swap_max 0: it may not swap */
    uint64_t host_swap_free;                          /* SwapFree, bytes */
} MemctlReclaimInput;

/* Bytes reclaim could take from the group now (see above). */
uint64_t memctl_reclaim_could_free(const MemctlReclaimInput *in);

/* True when a group at `current` over `high` by more than `margin` cannot be brought back under by
 * anything reclaim could free: kill now. An overage within the margin is left to the windows (the
 * kernel barely throttles it, and a window's progress floor is what counts as progress anyway). */
bool memctl_reclaim_hopeless(uint64_t current, uint64_t high, uint64_t could_free, uint64_t margin);
