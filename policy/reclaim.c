/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy/reclaim.h"

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

uint64_t memctl_reclaim_could_free(const MemctlReclaimInput *in)
{
    uint64_t active = in->active_file > in->file_mapped ? in->active_file - in->file_mapped : 0;
    uint64_t file = sat_add(in->inactive_file, active);
    uint64_t room = in->swap_max > in->swap_current ? in->swap_max - in->swap_current : 0;
    uint64_t anon = min_u64(sat_add(in->inactive_anon, in->active_anon), min_u64(room, in->host_swap_free));
    return sat_add(sat_add(file, in->slab_reclaimable), anon);
}

bool memctl_reclaim_hopeless(uint64_t current, uint64_t high, uint64_t could_free, uint64_t margin)
{
    if (high == UINT64_MAX || current <= high)
        return false;
    uint64_t over = current - high;
    return over > margin && over > could_free;
}
