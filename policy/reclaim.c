/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy/reclaim.h"

#include "basic/size.h"

uint64_t memctl_reclaim_could_free(const MemctlReclaimInput *in)
{
    uint64_t active = in->active_file > in->file_mapped ? in->active_file - in->file_mapped : 0;
    uint64_t file = memctl_size_add(in->inactive_file, active);
    uint64_t room = in->swap_max > in->swap_current ? in->swap_max - in->swap_current : 0;
    uint64_t anon = memctl_size_min(memctl_size_add(in->inactive_anon, in->active_anon),
                                    memctl_size_min(room, in->host_swap_free));
    return memctl_size_add(memctl_size_add(file, in->slab_reclaimable), anon);
}

bool memctl_reclaim_hopeless(uint64_t current, uint64_t high, uint64_t could_free, uint64_t margin)
{
    if (high == UINT64_MAX || current <= high)
        return false;
    uint64_t over = current - high;
    return over > margin && over > could_free;
}
