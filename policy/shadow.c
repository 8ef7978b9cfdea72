/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy/shadow.h"

void memctl_shadow_start(MemctlShadow *s, uint64_t now)
{
    *s = (MemctlShadow){.active = true, .t_start = now};
}

MemctlShadowOutcome memctl_shadow_settle(MemctlShadow *s, uint64_t now, bool kernel_killed, bool calm)
{
    if (!s->active)
        return MEMCTL_SHADOW_NONE;
    MemctlShadowOutcome o = kernel_killed                                  ? MEMCTL_SHADOW_KERNEL_KILLED
                            : calm                                         ? MEMCTL_SHADOW_RECOVERED
                            : now - s->t_start >= MEMCTL_SHADOW_WATCH_USEC ? MEMCTL_SHADOW_STILL_STUCK
                                                                           : MEMCTL_SHADOW_NONE;
    if (o != MEMCTL_SHADOW_NONE)
        s->active = false;
    return o;
}

const char *memctl_shadow_outcome_name(MemctlShadowOutcome o)
{
    switch (o) {
    case MEMCTL_SHADOW_KERNEL_KILLED:
        return "kernel-killed";
    case MEMCTL_SHADOW_RECOVERED:
        return "recovered";
    case MEMCTL_SHADOW_STILL_STUCK:
        return "still-stuck";
    case MEMCTL_SHADOW_NONE:
        break;
    }
    return "pending";
}
